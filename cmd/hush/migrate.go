package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/migrate"
	"github.com/hush-secrets/hush/store"
)

// migrateOptions are the flags of hush migrate plan and apply.
type migrateOptions struct {
	Rules []string
	Name  string
	JSON  bool
}

func (o migrateOptions) migration() (migrate.Migration, error) {
	if len(o.Rules) == 0 {
		return migrate.Migration{}, usageErrorf("give at least one --rule PREFIX=SCOPE")
	}
	m := migrate.Migration{Name: o.Name}
	for _, s := range o.Rules {
		r, err := migrate.ParseRule(s)
		if err != nil {
			return m, err
		}
		m.Rules = append(m.Rules, r)
	}
	return m, m.Validate()
}

// planJSON is the output of `hush migrate plan --json` (docs/CLI.md).
type planJSON struct {
	Name  string     `json:"name"`
	Done  bool       `json:"done"`
	Moves []moveJSON `json:"moves"`
}

type moveJSON struct {
	Old   string `json:"old"`
	New   string `json:"new"`
	Scope string `json:"scope"`
}

// applyJSON is the output of `hush migrate apply --json` (docs/CLI.md).
type applyJSON struct {
	Name           string   `json:"name"`
	Moved          []string `json:"moved"`
	AlreadyPresent []string `json:"already_present"`
	Skipped        []string `json:"skipped"`
	AlreadyDone    bool     `json:"already_done"`
	Recorded       bool     `json:"recorded"`
}

func (a *app) migrateCmd() *cobra.Command {
	var o migrateOptions
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "move bare names into scopes, write-before-delete, once",
		Long: `Move bare names that start with PREFIX into the reserved scope SCOPE:
--rule BEARER_TOKEN_=workloads turns BEARER_TOKEN_x into
__hush_workloads_BEARER_TOKEN_x. 'plan' shows the moves and changes nothing;
'apply' copies, reads back, compares and only then deletes each old key, and
records the migration (named by --name, or derived from the rules) as done
inside the store, so it runs to completion once.`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	cmd.PersistentFlags().StringArrayVar(&o.Rules, "rule", nil, "move names starting with PREFIX into SCOPE (`PREFIX=SCOPE`, repeatable, first match wins)")
	cmd.PersistentFlags().StringVar(&o.Name, "name", "", "the migration's `ID` (default: derived from the rules)")
	cmd.PersistentFlags().BoolVar(&o.JSON, "json", false, "print JSON (see docs/CLI.md)")
	plan := &cobra.Command{
		Use:   "plan --rule PREFIX=SCOPE...",
		Short: "show the moves a migration would make; changes nothing",
		Args:  exactArgs(0, "no arguments (rules go in --rule)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, f, err := a.migrationAndStore(o)
			if err != nil {
				return err
			}
			return runMigratePlan(cmd.Context(), f, m, o.JSON, a.stdout)
		},
	}
	apply := &cobra.Command{
		Use:   "apply --rule PREFIX=SCOPE...",
		Short: "run a migration (once; reruns converge)",
		Args:  exactArgs(0, "no arguments (rules go in --rule)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, f, err := a.migrationAndStore(o)
			if err != nil {
				return err
			}
			rep, err := m.Apply(cmd.Context(), f)
			if rep != nil {
				if werr := writeApply(rep, o.JSON, a.stdout); werr != nil && err == nil {
					err = werr
				}
			}
			return err
		},
	}
	cmd.AddCommand(plan, apply)
	return cmd
}

func (a *app) migrationAndStore(o migrateOptions) (migrate.Migration, *store.File, error) {
	if err := a.noScope("migrate"); err != nil {
		return migrate.Migration{}, nil, err
	}
	m, err := o.migration()
	if err != nil {
		return m, nil, err
	}
	f, err := a.openFile()
	return m, f, err
}

func runMigratePlan(ctx context.Context, p store.Provider, m migrate.Migration, asJSON bool, w io.Writer) error {
	done, err := m.Done(ctx, p)
	if err != nil {
		return err
	}
	moves, err := m.Plan(ctx, p)
	if err != nil {
		return err
	}
	if asJSON {
		out := planJSON{Name: m.ID(), Done: done, Moves: []moveJSON{}}
		for _, mv := range moves {
			out.Moves = append(out.Moves, moveJSON{Old: mv.Old, New: mv.New, Scope: mv.Scope})
		}
		return encodeJSON(w, out)
	}
	if done {
		fmt.Fprintf(w, "migration %s is already complete\n", m.ID())
	}
	for _, mv := range moves {
		fmt.Fprintf(w, "%s -> %s\n", mv.Old, mv.New)
	}
	return nil
}

func writeApply(r *migrate.Report, asJSON bool, w io.Writer) error {
	if asJSON {
		nz := func(s []string) []string {
			if s == nil {
				return []string{}
			}
			return s
		}
		return encodeJSON(w, applyJSON{Name: r.Name, Moved: nz(r.Moved), AlreadyPresent: nz(r.AlreadyPresent),
			Skipped: nz(r.Skipped), AlreadyDone: r.AlreadyDone, Recorded: r.Recorded})
	}
	if r.AlreadyDone {
		_, err := fmt.Fprintf(w, "migration %s was already complete; nothing to do\n", r.Name)
		return err
	}
	for _, n := range r.Moved {
		fmt.Fprintf(w, "moved %s\n", n)
	}
	for _, n := range r.AlreadyPresent {
		fmt.Fprintf(w, "kept the existing new key of %s and deleted the old one\n", n)
	}
	if r.Recorded {
		fmt.Fprintf(w, "migration %s complete\n", r.Name)
	}
	return nil
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
