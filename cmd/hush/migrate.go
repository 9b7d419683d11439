package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

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
			return m, ruleFlagErr(s, err)
		}
		m.Rules = append(m.Rules, r)
	}
	if err := m.Validate(); err != nil {
		return m, nameFlagErr(o.Name, err)
	}
	return m, nil
}

// planJSON is the output of `hush migrate plan --json` (docs/CLI.md).
type planJSON struct {
	Name    string     `json:"name"`
	Done    bool       `json:"done"`
	Moves   []moveJSON `json:"moves"`
	Clashes []moveJSON `json:"clashes"`
}

type moveJSON struct {
	Old   string `json:"old"`
	New   string `json:"new"`
	Scope string `json:"scope"`
}

// applyJSON is the output of `hush migrate apply --json` (docs/CLI.md).
type applyJSON struct {
	Name           string     `json:"name"`
	Moved          []string   `json:"moved"`
	AlreadyPresent []string   `json:"already_present"`
	Skipped        []string   `json:"skipped"`
	Clashes        []moveJSON `json:"clashes"`
	AlreadyDone    bool       `json:"already_done"`
	Recorded       bool       `json:"recorded"`
}

func movesJSON(ms []migrate.Move) []moveJSON {
	out := []moveJSON{}
	for _, mv := range ms {
		out = append(out, moveJSON{Old: mv.Old, New: mv.New, Scope: mv.Scope})
	}
	return out
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
inside the store, so it runs to completion once. A new key that already holds
a different value is a clash: both keys are left as they are, the clash is
reported, and apply exits 4 without recording the migration; keep one of the
two values and run apply again.`,
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
			return a.runMigratePlan(cmd.Context(), f, m, o)
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
			return a.runMigrateApply(cmd.Context(), f, m, o)
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

// runMigrateApply runs m on p and prints its report, also when it stopped
// part way; clashes make it a refusal (exit 4) with hints.
//
// Like an import, a migration keeps most of what it allocates live until
// its last write (the store read, the values copied, the moves), so the
// collector waits for a memory limit sized from the store file, as for an
// import of that many bytes (see importGC).
func (a *app) runMigrateApply(ctx context.Context, p store.Provider, m migrate.Migration, o migrateOptions) error {
	if f, ok := p.(*store.File); ok {
		if fi, err := os.Stat(f.Path()); err == nil && fi.Size() < math.MaxInt32 {
			defer a.importGC(int(fi.Size()))()
		}
	}
	rep, err := m.Apply(ctx, p)
	if rep != nil {
		if werr := writeApply(rep, o.JSON, a.stdout); werr != nil && err == nil {
			err = werr
		}
	}
	if errors.Is(err, migrate.ErrClash) {
		err = clashErr(rep)
	}
	return err
}

// runMigratePlan prints the moves and clashes m would make on p; it changes
// nothing.
func (a *app) runMigratePlan(ctx context.Context, p store.Provider, m migrate.Migration, o migrateOptions) error {
	asJSON := o.JSON
	done, err := m.Done(ctx, p)
	if err != nil {
		return err
	}
	all, err := m.Plan(ctx, p)
	if err != nil {
		return err
	}
	var moves, clashes []migrate.Move
	for _, mv := range all {
		if mv.Clash {
			clashes = append(clashes, mv)
		} else {
			moves = append(moves, mv)
		}
	}
	if asJSON {
		err = encodeJSON(a.stdout, planJSON{Name: m.ID(), Done: done, Moves: movesJSON(moves), Clashes: movesJSON(clashes)})
	} else {
		if done {
			fmt.Fprintf(a.stdout, "migration %s is already complete\n", m.ID())
		}
		for _, mv := range moves {
			fmt.Fprintf(a.stdout, "%s -> %s\n", printable(mv.Old), printable(mv.New))
		}
		for _, mv := range clashes {
			fmt.Fprintf(a.stdout, "clash: %s and %s hold different values; apply keeps both\n", printable(mv.Old), printable(mv.New))
		}
	}
	if len(clashes) > 0 && !done {
		a.warnf("warning: %s; apply will leave them as they are and not record migration %s complete", clashCount(clashes), m.ID())
		for _, h := range clashHints(clashes) {
			a.warnf("hint: %s", h)
		}
	}
	return err
}

// clashCount says how many keys clash, for a message.
func clashCount(cs []migrate.Move) string {
	if len(cs) == 1 {
		return fmt.Sprintf("%s clashes with %s (different values)", cs[0].Old, cs[0].New)
	}
	return fmt.Sprintf("%d keys clash with their new keys (different values)", len(cs))
}

// clashHints are the next steps after a clash: look at both values, keep
// one, rerun. They name keys, never values.
func clashHints(cs []migrate.Move) []string {
	c := cs[0]
	user, scoped := "'hush get "+shellWord(c.Old)+"'", "'hush --scope "+c.Scope+" get "+shellWord(c.Old)+"'"
	look := "look at both values: " + user + " and " + scoped
	if len(cs) > 1 {
		look = "look at both values of each clash, e.g. " + user + " and " + scoped
	}
	return []string{look,
		"keep one: 'hush --scope " + c.Scope + " rm " + shellWord(c.Old) + "' keeps yours (apply then moves it), 'hush rm " +
			shellWord(c.Old) + "' keeps the program's; then rerun 'hush migrate apply' with the same --rule flags"}
}

// clashErr is apply's error when keys clashed: a refusal by policy (exit
// 4), since nothing was lost but the migration is not done.
func clashErr(r *migrate.Report) error {
	err := &refusal{fmt.Errorf("migration %s is not complete: %s; both are kept as they were", r.Name, clashCount(r.Clashes))}
	hs := clashHints(r.Clashes)
	return withHint(withHint(err, "%s", hs[1]), "%s", hs[0])
}

// refusal is an error that exits with the code of a refusal by policy.
type refusal struct{ err error }

func (e *refusal) Error() string   { return e.err.Error() }
func (e *refusal) Unwrap() []error { return []error{e.err, errRefused} }

// shellWord quotes a name for a command line in a hint when it holds a
// byte the shell would read specially.
func shellWord(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.,:+=@%/", r))
	}) {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace(s) + `"`
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
			Skipped: nz(r.Skipped), Clashes: movesJSON(r.Clashes), AlreadyDone: r.AlreadyDone, Recorded: r.Recorded})
	}
	if r.AlreadyDone {
		_, err := fmt.Fprintf(w, "migration %s was already complete; nothing to do\n", r.Name)
		return err
	}
	// One line a key: buffered, not a system call each (10,000 keys), and
	// without fmt's formatting for the lists that can be that long.
	bw := bufio.NewWriter(w)
	w = bw
	line := func(before, name, after string) {
		bw.WriteString(before)
		bw.WriteString(printable(name))
		bw.WriteString(after)
	}
	for _, n := range r.Moved {
		line("moved ", n, "\n")
	}
	for _, n := range r.AlreadyPresent {
		line("deleted ", n, ": its new key already held the same value\n")
	}
	for _, mv := range r.Clashes {
		fmt.Fprintf(w, "clash: kept both %s and %s (different values)\n", printable(mv.Old), printable(mv.New))
	}
	if r.Recorded {
		fmt.Fprintf(w, "migration %s complete\n", r.Name)
	}
	return bw.Flush()
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
