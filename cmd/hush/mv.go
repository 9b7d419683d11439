package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/store"
)

// mvOptions are the flags of hush mv.
type mvOptions struct {
	Old, New string
	Force    bool
}

func (a *app) mvCmd() *cobra.Command {
	var o mvOptions
	cmd := &cobra.Command{
		Use:   "mv OLD NEW",
		Short: "rename a secret in one atomic change",
		Args:  exactArgs(2, "OLD and NEW"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Old, o.New = args[0], args[1]
			if err := checkNames("mv", o.Old, o.New); err != nil {
				return err // before any prompt
			}
			p, _, err := a.openUnlocked(cmd.Context())
			if err != nil {
				return err
			}
			return runMv(cmd.Context(), p, o)
		},
	}
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace NEW if it exists")
	cmd.ValidArgsFunction = a.completeNames(1)
	return cmd
}

// runMv renames Old to New, keeping its description and creation time's
// meaning, as one change. It refuses to replace New without Force.
func runMv(ctx context.Context, p store.Provider, o mvOptions) error {
	if err := checkNames("mv", o.Old, o.New); err != nil {
		return err
	}
	return commandOp("mv", store.Update(ctx, p, func(tx store.Tx) error {
		v, err := tx.Get(o.Old)
		if err != nil {
			return err
		}
		defer clear(v)
		e, err := tx.Lookup(o.Old)
		if err != nil {
			return err
		}
		if o.Old == o.New {
			return nil
		}
		if _, err := tx.Lookup(o.New); err == nil && !o.Force {
			return withHint(&store.KeyError{Op: "mv", Name: o.New, Err: fmt.Errorf("%w: the target exists", errRefused)},
				"pass --force to replace it")
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.Set(o.New, v); err != nil {
			return err
		}
		if err := tx.SetDescription(o.New, e.Description); err != nil {
			return err
		}
		return tx.Delete(o.Old)
	}))
}
