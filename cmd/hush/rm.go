package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/store"
)

// rmOptions are the flags of hush rm.
type rmOptions struct {
	Names     []string
	MissingOK bool
}

func (a *app) rmCmd() *cobra.Command {
	var o rmOptions
	cmd := &cobra.Command{
		Use:   "rm NAME...",
		Short: "delete secrets, all or none",
		Args:  minArgs(1, "at least one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			if err := checkNames("rm", o.Names...); err != nil {
				return err // before any prompt
			}
			p, _, err := a.openUnlocked(cmd.Context())
			if err != nil {
				return err
			}
			return runRm(cmd.Context(), p, o)
		},
	}
	cmd.Flags().BoolVar(&o.MissingOK, "missing-ok", false, "ignore names that do not exist")
	cmd.ValidArgsFunction = a.completeNames(-1)
	return cmd
}

// runRm deletes every name in one change; if one is missing (without
// MissingOK) or refused, nothing is deleted.
func runRm(ctx context.Context, p store.Provider, o rmOptions) error {
	if err := checkNames("rm", o.Names...); err != nil {
		return err
	}
	return commandOp("rm", store.Update(ctx, p, func(tx store.Tx) error {
		for _, n := range o.Names {
			err := tx.Delete(n)
			if err != nil && !(o.MissingOK && errors.Is(err, store.ErrNotFound)) {
				return err
			}
		}
		return nil
	}))
}

// commandOp returns err with the operation of a *store.KeyError at its top
// replaced by op, the command the user typed, so that a message names
// "rm NOPE", not the store's "delete NOPE". Any other error is returned as
// it is; the chain under the KeyError is kept for errors.Is and errors.As.
func commandOp(op string, err error) error {
	if ke, ok := err.(*store.KeyError); ok && ke.Op != op {
		return &store.KeyError{Op: op, Name: ke.Name, Err: ke.Err}
	}
	return err
}
