package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/store"
)

// renderOptions are the flags of hush render.
type renderOptions struct {
	Template string // a path, or "-" for standard input
	Output   string
}

func (a *app) renderCmd() *cobra.Command {
	var o renderOptions
	cmd := &cobra.Command{
		Use:   "render [-o FILE] [TEMPLATE|-]",
		Short: "copy a template with its {{ hush://NAME }} placeholders filled in",
		Long: `Copy TEMPLATE (standard input without one, or with -) to standard output, or
with -o to FILE (created 0600, replaced atomically), with every placeholder
{{ hush://NAME }} replaced by the value of the secret NAME, as op inject
does. Blanks inside the braces are optional; the value is inserted as it
is, without quoting or escaping. Anything else, {{ .Values.x }} included,
is copied unchanged.

A placeholder naming a missing secret is exit 3 and nothing is written;
so is a malformed one ({{ hush:// not closed by }} on its line, exit 1).`,
		Args: rangeArgs(0, 1, "at most one template"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Template = "-"
			if len(args) == 1 {
				o.Template = args[0]
			}
			return a.runRender(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write to `FILE` (created 0600, replaced atomically) instead of stdout")
	return cmd
}

// runRender reads the template (an input file: standard input or a
// regular file of at most maxImport bytes), renders it whole in memory,
// and only then writes it, so that any error writes nothing.
func (a *app) runRender(ctx context.Context, o renderOptions) error {
	tmpl, err := a.readInput(o.Template, maxImport)
	if err != nil {
		return err
	}
	p, _, err := a.openView()
	if err != nil {
		return err
	}
	out, err := formats.Render(tmpl, func(name string) ([]byte, error) {
		v, err := p.Get(ctx, name)
		if err != nil {
			return nil, secretFor(formats.ReferencePrefix+printable(name), err)
		}
		return v, nil
	})
	var te *formats.TemplateError
	if errors.As(err, &te) {
		hint := "a placeholder is {{ hush://NAME }} on one line"
		if errors.Is(err, store.ErrNotFound) {
			hint = "nothing was written; 'hush ls' lists the names you can see"
		}
		return withHint(fmt.Errorf("render %s: %w", o.Template, err), "%s", hint)
	}
	if err != nil {
		return err
	}
	defer clear(out)
	if o.Output != "" {
		removeStaleTemps(o.Output)
		return atomicfile.WriteFile(o.Output, out, 0o600, atomicfile.Unnamed())
	}
	_, err = a.stdout.Write(out)
	return err
}
