package main

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/store"
)

// exportOptions are the flags of hush export.
type exportOptions struct {
	Format string
	Only   []string
	Strict bool
}

func (a *app) exportCmd() *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export",
		Short: "print secrets as dotenv, JSON or shell assignments",
		Long: `Print secrets to standard output in a format that the matching import reads
back exactly:

  dotenv  NAME='value' (double quotes with escapes only where needed)
  json    {"NAME": "value", ...}
  shell   export NAME='value' lines for eval "$(hush export --format shell)"

Secrets a format cannot hold are left out with a warning (--strict: fail).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.Format, "dotenv", "json", "shell"); err != nil {
				return err
			}
			p, _, err := a.openView()
			if err != nil {
				return err
			}
			err = runExport(cmd.Context(), p, o, a.stdout)
			var skip *formats.SkipError
			if errors.As(err, &skip) && !o.Strict {
				for _, s := range skip.Skipped {
					a.warnf("export: left out %s: %s", s.Name, s.Reason)
				}
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "dotenv", "output format: dotenv, json or shell")
	cmd.Flags().StringSliceVar(&o.Only, "only", nil, "export only these secrets (comma-separated)")
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "fail if a secret cannot be represented in the format")
	return cmd
}

// runExport writes the secrets of p (or just o.Only) to w in o.Format.
func runExport(ctx context.Context, p store.Provider, o exportOptions, w io.Writer) error {
	names := o.Only
	if len(names) == 0 {
		es, err := p.List(ctx)
		if err != nil {
			return err
		}
		for _, e := range es {
			names = append(names, e.Name)
		}
	}
	secrets := make([]formats.Secret, 0, len(names))
	defer func() { clearSecrets(secrets) }()
	for _, n := range names {
		v, err := p.Get(ctx, n)
		if err != nil {
			return err
		}
		secrets = append(secrets, formats.Secret{Name: n, Value: v})
	}
	switch o.Format {
	case "json":
		return formats.WriteJSON(w, secrets)
	case "shell":
		return formats.WriteShell(w, secrets)
	default:
		return formats.WriteDotenv(w, secrets)
	}
}

// reportImport says on stderr what an import did (names only).
func (a *app) reportImport(r *formats.ImportReport) {
	a.warnf("imported %d new, %d overwritten, %d unchanged, %d kept (--skip-existing)",
		len(r.Added), len(r.Overwritten), len(r.Unchanged), len(r.Skipped))
}
