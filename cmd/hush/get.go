package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/store"
)

// getOptions are the flags of hush get.
type getOptions struct {
	Name   string
	Raw    bool
	Output string
}

func (a *app) getCmd() *cobra.Command {
	var o getOptions
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "print a secret's value (and a newline; --raw for the exact bytes)",
		Args:  exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			p, _, err := a.openView()
			if err != nil {
				return err
			}
			return runGet(cmd.Context(), p, o, a.stdout)
		},
	}
	cmd.Flags().BoolVar(&o.Raw, "raw", false, "print the exact bytes, without the newline")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write the exact bytes to `FILE` (created 0600) instead of stdout")
	return cmd
}

// runGet writes the value of o.Name to stdout, or to the file o.Output.
func runGet(ctx context.Context, p store.Provider, o getOptions, stdout io.Writer) error {
	if err := checkNames("get", o.Name); err != nil {
		return err
	}
	v, err := p.Get(ctx, o.Name)
	if err != nil {
		return err
	}
	defer clear(v)
	if o.Output != "" {
		return atomicfile.WriteFile(o.Output, v, 0o600)
	}
	if !o.Raw {
		v = append(v, '\n')
	}
	_, err = stdout.Write(v)
	return err
}
