package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/store"
)

// rekeyOptions are the flags of hush rekey.
type rekeyOptions struct {
	DryRun bool
}

func (a *app) rekeyCmd() *cobra.Command {
	var o rekeyOptions
	cmd := &cobra.Command{
		Use:   "rekey",
		Short: "re-encrypt the store with a fresh file key, to the same recipients",
		Long: `Re-encrypt the whole store with a fresh file key, to the recipients it
has, with the same contents. (Every write does this too; rekey does it
without changing anything.) --dry-run decrypts the store, says what it
would do on standard output, and writes nothing.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.noScope("rekey"); err != nil {
				return err
			}
			f, err := a.openFileUnlocked(cmd.Context())
			if err != nil {
				return err
			}
			if err := runRekey(cmd.Context(), f, o, a.stdout); err != nil {
				return err
			}
			if !o.DryRun {
				a.warnf("re-encrypted %s with a fresh file key", f.Path())
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "say what would be done and write nothing")
	return cmd
}

// runRekey re-encrypts f to its recipients with a fresh file key. With
// o.DryRun it only decrypts the store (so the caller's identity is
// checked) and writes the plan to stdout: the store, how many entries
// and which recipients. On any error nothing is written.
func runRekey(ctx context.Context, f *store.File, o rekeyOptions, stdout io.Writer) error {
	if !o.DryRun {
		return f.Rekey(ctx)
	}
	rs, err := f.Recipients(ctx)
	if err != nil {
		return err
	}
	es, err := f.List(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "would re-encrypt %s, holding %d secret(s), with a fresh file key to its %d recipient(s):\n", f.Path(), len(es), len(rs))
	for _, r := range rs {
		fmt.Fprintf(stdout, "  %s\n", r)
	}
	_, err = fmt.Fprintln(stdout, "dry run: nothing written")
	return err
}
