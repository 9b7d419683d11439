package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/internal/inputfile"
	"github.com/hush-secrets/hush/store"
)

func (a *app) recipientsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recipients",
		Short: "list, add or remove the store's recipients (re-encrypts)",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRunE,
	}
	cmd.AddCommand(a.recipientsLsCmd(), a.recipientsAddCmd(), a.recipientsRmCmd())
	return cmd
}

// recipientsLsOptions are the flags of hush recipients ls.
type recipientsLsOptions struct {
	JSON bool
}

func (a *app) recipientsLsCmd() *cobra.Command {
	var o recipientsLsOptions
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "list the recipients the store is encrypted to",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := a.openRecipientsStore(cmd.Context())
			if err != nil {
				return err
			}
			return runRecipientsLs(cmd.Context(), f, o, a.stdout)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print a JSON array of strings")
	return cmd
}

// recipientsAddOptions are the arguments and flags of hush recipients add.
type recipientsAddOptions struct {
	Recipients []string
	Files      []string
}

func (a *app) recipientsAddCmd() *cobra.Command {
	var o recipientsAddOptions
	cmd := &cobra.Command{
		Use:   "add RECIPIENT...",
		Short: "add recipients and re-encrypt",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Recipients = args
			return a.runRecipientsAdd(cmd.Context(), o)
		},
	}
	cmd.Flags().StringArrayVarP(&o.Files, "recipients-file", "R", nil, "add the recipients listed in `FILE`")
	return cmd
}

// runRecipientsAdd checks o's recipients and reads its files before it
// opens the store, then re-encrypts the store to them as well. Giving no
// recipient at all is a usage error.
func (a *app) runRecipientsAdd(ctx context.Context, o recipientsAddOptions) error {
	rs, err := readRecipientFlags(o.Recipients, o.Files)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return usageErrorf("recipients add takes at least one RECIPIENT (or -R FILE)")
	}
	f, err := a.openRecipientsStore(ctx)
	if err != nil {
		return err
	}
	cur, err := f.Recipients(ctx)
	if err != nil {
		return err
	}
	var added []string
	for _, r := range rs {
		if slices.ContainsFunc(cur, func(c string) bool { return store.SameRecipient(c, r) }) ||
			slices.ContainsFunc(added, func(c string) bool { return store.SameRecipient(c, r) }) {
			a.warnf("%s is already a recipient", printable(r))
			continue
		}
		added = append(added, r)
	}
	if err := f.AddRecipients(ctx, rs); err != nil {
		return err
	}
	if len(added) == 0 {
		a.warnf("no recipient added; the store is unchanged")
		return nil
	}
	a.warnf("added %d recipient(s) and re-encrypted the store to them as well", len(added))
	return nil
}

// recipientsRmOptions are the arguments and flags of hush recipients rm.
type recipientsRmOptions struct {
	Recipients []string
	Files      []string
	Force      bool
}

func (a *app) recipientsRmCmd() *cobra.Command {
	var o recipientsRmOptions
	cmd := &cobra.Command{
		Use:   "rm RECIPIENT...",
		Short: "remove recipients and re-encrypt; refuses to lock you out",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Recipients = args
			return a.runRecipientsRm(cmd.Context(), o)
		},
	}
	cmd.Flags().StringArrayVarP(&o.Files, "recipients-file", "R", nil, "remove the recipients listed in `FILE`")
	cmd.Flags().BoolVar(&o.Force, "force", false, "remove even if none of your identities could decrypt the result")
	return cmd
}

// runRecipientsRm reads o's files before it opens the store, then removes
// the recipients and re-encrypts with a fresh key and a fresh store key
// (so a removed recipient cannot forge the store from then on), and lists
// the names the removed recipients could read. The store refuses a
// removal that locks the caller out unless o.Force. Giving no recipient
// at all is a usage error.
func (a *app) runRecipientsRm(ctx context.Context, o recipientsRmOptions) error {
	rs := o.Recipients
	for _, file := range o.Files {
		data, err := inputfile.ReadFile(file, maxKeyFile)
		if err != nil {
			return fmt.Errorf("recipients file: %w", err)
		}
		more, err := store.ParseRecipientsFile(data, nil)
		if err != nil {
			return fmt.Errorf("recipients file %s: %w", file, err)
		}
		rs = append(rs, more...)
	}
	if len(rs) == 0 {
		return usageErrorf("recipients rm takes at least one RECIPIENT (or -R FILE)")
	}
	f, err := a.openRecipientsStore(ctx)
	if err != nil {
		return err
	}
	readable, err := f.List(ctx)
	if err != nil {
		return err
	}
	if err := f.RemoveRecipients(ctx, rs, o.Force); err != nil {
		return err
	}
	a.warnf("removed %d recipient(s) and re-encrypted the store with a fresh file key and store key", len(rs))
	if len(readable) > 0 {
		a.warnf("the removed recipient(s) could read %d secret(s):", len(readable))
		for _, e := range readable {
			a.warnf("  %s", printable(e.Name))
		}
	}
	a.warnf("hint: a removed recipient may hold an old copy; rotate the values of these secrets")
	return nil
}

// openRecipientsStore opens the whole store; --scope is a usage error.
func (a *app) openRecipientsStore(ctx context.Context) (*store.File, error) {
	if err := a.noScope("recipients"); err != nil {
		return nil, err
	}
	return a.openFileUnlocked(ctx)
}

// runRecipientsLs writes the recipients of f to w, one a line or with
// o.JSON as a JSON array of strings.
func runRecipientsLs(ctx context.Context, f *store.File, o recipientsLsOptions, w io.Writer) error {
	rs, err := f.Recipients(ctx)
	if err != nil {
		return err
	}
	if o.JSON {
		if rs == nil {
			rs = []string{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rs)
	}
	for _, r := range rs {
		fmt.Fprintln(w, printable(r))
	}
	return nil
}

// readRecipientFlags validates -r values and reads -R files.
func readRecipientFlags(rs, files []string) ([]string, error) {
	var out []string
	for _, r := range rs {
		if _, err := store.ParseRecipient(r, nil); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	for _, f := range files {
		data, err := inputfile.ReadFile(f, maxKeyFile)
		if err != nil {
			return nil, fmt.Errorf("recipients file: %w", err)
		}
		more, err := store.ParseRecipientsFile(data, nil)
		if err != nil {
			return nil, fmt.Errorf("recipients file %s: %w", f, err)
		}
		out = append(out, more...)
	}
	return out, nil
}
