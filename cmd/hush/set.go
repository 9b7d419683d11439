package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/store"
)

// setOptions are the flags of hush set.
type setOptions struct {
	Name        string
	Description string
	HasDesc     bool   // --description was given (it may be empty)
	FromFile    string // a path, "-" for stdin, or "" for stdin with the newline rule
	KeepNewline bool
}

func (a *app) setCmd() *cobra.Command {
	var o setOptions
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "store a secret read from standard input (never from the command line)",
		Long: `Store the secret NAME. The value is never taken from the command line:

  piped stdin      all of it, minus one trailing newline (--keep-newline keeps it)
  a terminal       asked for twice without echo; the two must match; a paste
                   of several lines is read whole and refused
  --from-file F    the exact bytes of file F ('-' for the exact bytes of stdin;
                   on a terminal, typed without echo up to Ctrl-D)

A value is at most 4 MiB (not counting the trailing newline dropped from
piped stdin). NAME is checked before anything is asked.`,
		Args: exactArgs(1, "one NAME; the value comes from standard input, never from the command line"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			o.HasDesc = cmd.Flags().Changed("description")
			// An invalid name is refused before anything is asked.
			if err := checkNames("set", o.Name); err != nil {
				return err
			}
			// Every prompt comes before the lock: the identities are
			// unlocked first, then the value is read, then runSet locks.
			p, _, err := a.openUnlocked(cmd.Context())
			if err != nil {
				return err
			}
			value, err := a.readValue(o)
			if err != nil {
				return err
			}
			defer clear(value)
			return runSet(cmd.Context(), p, o, value)
		},
	}
	cmd.Flags().StringVar(&o.Description, "description", "", "a description shown by 'hush ls --long'")
	cmd.Flags().StringVar(&o.FromFile, "from-file", "", "read the exact bytes of `FILE` ('-' for stdin)")
	cmd.Flags().BoolVar(&o.KeepNewline, "keep-newline", false, "keep the trailing newline of piped input")
	return cmd
}

// runSet stores value under o.Name, with its description, in one change.
func runSet(ctx context.Context, p store.Provider, o setOptions, value []byte) error {
	return store.Update(ctx, p, func(tx store.Tx) error {
		if err := tx.Set(o.Name, value); err != nil {
			return err
		}
		if o.HasDesc {
			return tx.SetDescription(o.Name, o.Description)
		}
		return nil
	})
}
