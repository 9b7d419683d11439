package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/store"
)

func (a *app) trustCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "trust",
		Short: "accept the store as it is now, after an integrity refusal; shows what changed",
		Long: `hush remembers, per store, the version it last accepted (under
$XDG_STATE_HOME/hush). A store written by someone who could not read that
version is refused (exit 5): it may have been forged by anyone who can
write the file and knows the recipients' public keys. Check with your team
that the change is genuine, then run 'hush trust': it shows the names and
recipients added and removed since the accepted version (never values) and
accepts the store as it is now.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.noScope("trust"); err != nil {
				return err
			}
			f, err := a.openFile()
			if err != nil {
				return err
			}
			return runTrust(cmd.Context(), f, a.stdout)
		},
	}
}

// runTrust records the store f as accepted and writes to w what changed
// since the version accepted before: names and recipients, never values.
func runTrust(ctx context.Context, f *store.File, w io.Writer) error {
	before, now, err := f.Trust(ctx)
	if err != nil {
		return err
	}
	if before == nil {
		fmt.Fprintf(w, "no earlier version of %s was accepted here; it holds:\n", f.Path())
		for _, n := range now.Names {
			fmt.Fprintf(w, "  name %s\n", printable(n))
		}
		for _, r := range now.Recipients {
			fmt.Fprintf(w, "  recipient %s\n", printable(r))
		}
	} else {
		fmt.Fprintf(w, "changes to %s since the version accepted before:\n", f.Path())
		n := diffLines(w, "name", before.Names, now.Names)
		n += diffLines(w, "recipient", before.Recipients, now.Recipients)
		if n == 0 {
			fmt.Fprintln(w, "  no name or recipient changed (values may have)")
		}
	}
	fmt.Fprintf(w, "accepted %s as it is now\n", f.Path())
	return nil
}

// diffLines writes "+ what X" for each X in now but not in old and
// "- what X" for the reverse, and returns how many it wrote. It is linear
// in the lists' lengths: a trust of a 100,000-name store is one pass.
func diffLines(w io.Writer, what string, old, now []string) int {
	inOld := make(map[string]bool, len(old))
	for _, x := range old {
		inOld[x] = true
	}
	inNow := make(map[string]bool, len(now))
	for _, x := range now {
		inNow[x] = true
	}
	n := 0
	for _, x := range old {
		if !inNow[x] {
			fmt.Fprintf(w, "  - %s %s\n", what, printable(x))
			n++
		}
	}
	for _, x := range now {
		if !inOld[x] {
			fmt.Fprintf(w, "  + %s %s\n", what, printable(x))
			n++
		}
	}
	return n
}
