package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/store"
)

func (a *app) recipientsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recipients",
		Short: "list, add or remove the store's recipients (re-encrypts)",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRunE,
	}
	var asJSON bool
	ls := &cobra.Command{
		Use:   "ls",
		Short: "list the recipients the store is encrypted to",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := a.openRecipientsStore()
			if err != nil {
				return err
			}
			return runRecipientsLs(cmd.Context(), f, asJSON, a.stdout)
		},
	}
	ls.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of strings")

	var files []string
	add := &cobra.Command{
		Use:   "add RECIPIENT...",
		Short: "add recipients and re-encrypt",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rs, err := readRecipientFlags(args, files)
			if err != nil {
				return err
			}
			if len(rs) == 0 {
				return usageErrorf("recipients add takes at least one RECIPIENT (or -R FILE)")
			}
			f, err := a.openRecipientsStore()
			if err != nil {
				return err
			}
			if err := f.AddRecipients(cmd.Context(), rs); err != nil {
				return err
			}
			a.warnf("the store is now encrypted to %d more recipient(s) as well", len(rs))
			a.warnf("hint: anyone with an old copy of the file can still read the old contents; rotate secrets that must stay private")
			return nil
		},
	}
	add.Flags().StringArrayVarP(&files, "recipients-file", "R", nil, "add the recipients listed in `FILE`")

	var (
		force   bool
		rmFiles []string
	)
	rm := &cobra.Command{
		Use:   "rm RECIPIENT...",
		Short: "remove recipients and re-encrypt; refuses to lock you out",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rs := args
			for _, file := range rmFiles {
				data, err := os.ReadFile(file)
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
			f, err := a.openRecipientsStore()
			if err != nil {
				return err
			}
			if err := f.RemoveRecipients(cmd.Context(), rs, force); err != nil {
				return err
			}
			a.warnf("removed %d recipient(s) and re-encrypted the store with a fresh key", len(rs))
			a.warnf("hint: a removed recipient may hold an old copy; rotate the secrets it could read")
			return nil
		},
	}
	rm.Flags().StringArrayVarP(&rmFiles, "recipients-file", "R", nil, "remove the recipients listed in `FILE`")
	rm.Flags().BoolVar(&force, "force", false, "remove even if none of your identities could decrypt the result")
	cmd.AddCommand(ls, add, rm)
	return cmd
}

func (a *app) openRecipientsStore() (*store.File, error) {
	if err := a.noScope("recipients"); err != nil {
		return nil, err
	}
	return a.openFile()
}

func runRecipientsLs(ctx context.Context, f *store.File, asJSON bool, w io.Writer) error {
	rs, err := f.Recipients(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		if rs == nil {
			rs = []string{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rs)
	}
	for _, r := range rs {
		fmt.Fprintln(w, r)
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
		data, err := os.ReadFile(f)
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
