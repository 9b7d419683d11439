package migrate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// RecordScope is the reserved scope in which completed migrations are
// recorded: migration NAME is complete when the key __hush_migrate_NAME
// exists. Rules may not move keys into it.
const RecordScope = "migrate"

// Rule moves bare names that start with Prefix into Scope. The new key
// keeps the whole old name: with Prefix "BEARER_TOKEN_" and Scope
// "workloads", BEARER_TOKEN_x becomes __hush_workloads_BEARER_TOKEN_x.
type Rule struct {
	Prefix string
	Scope  string
}

// ParseRule parses "PREFIX=SCOPE" (split at the last "=", since a scope
// never contains one) and validates it as [Rule.Validate] does.
func ParseRule(s string) (Rule, error) {
	i := strings.LastIndexByte(s, '=')
	if i < 0 {
		return Rule{}, fmt.Errorf("migrate: %w: want PREFIX=SCOPE", ErrInvalidRule)
	}
	r := Rule{Prefix: s[:i], Scope: s[i+1:]}
	return r, r.Validate()
}

// String returns the rule as ParseRule reads it.
func (r Rule) String() string { return r.Prefix + "=" + r.Scope }

// Validate reports whether the rule can be used. The prefix must be a
// non-empty fragment of a valid name that is not in the reserved namespace;
// the scope must be a valid scope (scope.ValidateScope) other than
// RecordScope. Errors wrap ErrInvalidRule.
func (r Rule) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("migrate: %w %s: %s", ErrInvalidRule, quote(r.String()), fmt.Sprintf(format, args...))
	}
	switch {
	case r.Prefix == "":
		return bad("empty prefix (it would move every name)")
	case store.ValidateName(r.Prefix) != nil:
		return bad("%v", store.ValidateName(r.Prefix))
	case scope.IsReserved(r.Prefix):
		return bad("prefix is in the reserved namespace %s, whose keys are never moved", scope.Prefix)
	case r.Scope == RecordScope:
		return bad("scope %s is reserved for migration records", RecordScope)
	}
	if err := scope.ValidateScope(r.Scope); err != nil {
		return bad("%v", err)
	}
	return nil
}

// Migration is a named, ordered rule set. For each bare name the first
// rule whose prefix matches decides its scope; names matching no rule and
// reserved keys are never touched.
//
// Name identifies the migration in the store's record of completed
// migrations; it must be a valid store name (at most 240 bytes). Empty
// means a name derived from the rules ([Migration.ID]), so the same rules
// given in the same order are the same migration.
type Migration struct {
	Name  string
	Rules []Rule
}

// Move is one planned key move.
type Move struct {
	Old   string // the bare name
	New   string // scope.Key(Scope, Old)
	Scope string // the scope the rule moves Old into
	// Clash is set when New already exists with a value other than Old's:
	// Apply touches neither key, reports the move in Report.Clashes and
	// does not record the migration complete.
	Clash bool
}

// Report says what Apply did. Names are old (bare) names.
type Report struct {
	Name           string   // the migration's ID
	Moved          []string // copied, verified, and the old key deleted
	AlreadyPresent []string // the new key already held the same value and was kept; the old key was deleted
	Clashes        []Move   // the new key held a different value: both keys were kept untouched (Clash is set)
	Skipped        []string // planned, but absent when its turn came (moved or deleted by another process)
	AlreadyDone    bool     // the migration was recorded complete before this run; nothing was read or written
	Recorded       bool     // this run recorded the migration complete
}

// ID returns the migration's name: Name, or when it is empty
// "rules-" and 16 hex digits of a hash of the rules in order.
func (m Migration) ID() string {
	if m.Name != "" {
		return m.Name
	}
	h := sha256.New()
	for _, r := range m.Rules {
		fmt.Fprintf(h, "%s\n", r)
	}
	return "rules-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// maxIDLen keeps the record key __hush_migrate_<ID> within a store name.
var maxIDLen = store.MaxNameLen - len(scope.Key(RecordScope, ""))

// Validate checks the rules and the name. Errors wrap ErrInvalidRule.
func (m Migration) Validate() error {
	if len(m.Rules) == 0 {
		return fmt.Errorf("migrate: %w: a migration needs at least one rule", ErrInvalidRule)
	}
	for _, r := range m.Rules {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	if err := store.ValidateName(m.ID()); err != nil {
		return fmt.Errorf("migrate: %w: migration name: %w", ErrInvalidRule, err)
	}
	if len(m.ID()) > maxIDLen {
		return fmt.Errorf("migrate: %w: migration name is %d bytes, the limit is %d", ErrInvalidRule, len(m.ID()), maxIDLen)
	}
	return nil
}

// match returns the first rule whose prefix name starts with.
func (m Migration) match(name string) (Rule, bool) {
	if j := m.ruleOf(name); j >= 0 {
		return m.Rules[j], true
	}
	return Rule{}, false
}

// ruleOf is match as the index of the rule in m.Rules, -1 for none.
func (m Migration) ruleOf(name string) int {
	if scope.IsReserved(name) {
		return -1
	}
	for j, r := range m.Rules {
		if strings.HasPrefix(name, r.Prefix) {
			return j
		}
	}
	return -1
}

// Plan lists the moves the migration would make now, in name order, with
// Clash set on each whose new key already exists with a different value
// (Apply would keep both keys and not record the migration complete). It
// changes nothing; it reads the values of both keys of a move whose new
// key exists, and no other value. p must be the raw store (not a User or
// Scoped view). A bare name whose new key would be longer than
// store.MaxNameLen is an error naming it (*StepError, step "plan", wrapping
// store.ErrInvalidName): rename it first. A failed read is a *StepError of
// step "plan" naming the key.
func (m Migration) Plan(ctx context.Context, p store.Provider) ([]Move, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	moves, es, err := m.moves(ctx, p)
	if err != nil {
		return nil, err
	}
	exists := make(map[string]bool, len(es))
	for _, e := range es {
		exists[e.Name] = true
	}
	for i, mv := range moves {
		if !exists[mv.New] {
			continue
		}
		vOld, err := p.Get(ctx, mv.Old)
		if err == nil {
			var vNew []byte
			if vNew, err = p.Get(ctx, mv.New); err == nil {
				moves[i].Clash = !bytes.Equal(vOld, vNew)
			}
		}
		// A key removed since the listing is no clash: Apply decides again.
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, &StepError{Key: mv.Old, Step: StepPlan, Err: err}
		}
	}
	return moves, nil
}

// moves lists the moves from the current keys, in name order, without
// reading any value, and every key that exists.
func (m Migration) moves(ctx context.Context, p store.Provider) ([]Move, []store.Entry, error) {
	es, err := p.List(ctx)
	if err != nil {
		return nil, nil, &StepError{Step: StepPlan, Err: err}
	}
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name
	}
	moves, err := m.movesOf(names)
	return moves, es, err
}

// movesIn lists the moves from the keys of tx, in name order, without
// reading any value: it lists only the names of the keys the rules'
// prefixes start (see store.TxNames).
func (m Migration) movesIn(tx store.Tx) ([]Move, error) {
	var names []string
	for _, r := range m.Rules {
		ns, err := store.TxNames(tx, r.Prefix)
		if err != nil {
			return nil, &StepError{Step: StepPlan, Err: err}
		}
		names = append(names, ns...)
	}
	if len(m.Rules) > 1 {
		slices.Sort(names)
		names = slices.Compact(names) // a name several prefixes start
	}
	return m.movesOf(names)
}

// movesOf lists the moves from names, the current keys, in their order.
// The new keys are substrings of one string: one allocation, not one a
// move.
func (m Migration) movesOf(names []string) ([]Move, error) {
	pre := make([]string, len(m.Rules)) // each rule's new keys start so
	for j, r := range m.Rules {
		pre[j] = scope.Key(r.Scope, "")
	}
	rule := make([]int, len(names)) // each name's rule (see ruleOf)
	n, size := 0, 0
	for i, name := range names {
		if rule[i] = m.ruleOf(name); rule[i] >= 0 {
			n++
			size += len(pre[rule[i]]) + len(name)
		}
	}
	var all strings.Builder
	all.Grow(size)
	moves := make([]Move, 0, n)
	for i, name := range names {
		j := rule[i]
		if j < 0 {
			continue
		}
		if l := len(pre[j]) + len(name); l > store.MaxNameLen {
			return nil, &StepError{Key: name, Step: StepPlan, Err: fmt.Errorf("%w: %w: the new key in scope %s would be %d bytes, the limit is %d",
				store.ErrInvalidName, store.ErrLimit, m.Rules[j].Scope, l, store.MaxNameLen)}
		}
		start := all.Len()
		all.WriteString(pre[j])
		all.WriteString(name)
		moves = append(moves, Move{Old: name, New: all.String()[start:], Scope: m.Rules[j].Scope})
	}
	return moves, nil
}

// Done reports whether the store records the migration complete. Any error
// other than the record's absence is returned, never taken as "not done".
func (m Migration) Done(ctx context.Context, p store.Provider) (bool, error) {
	if err := m.Validate(); err != nil {
		return false, err
	}
	sv, err := scope.Scoped(p, RecordScope)
	if err != nil {
		return false, err
	}
	_, err = sv.Get(ctx, m.ID())
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, err
}

// Fallback returns scope.Scoped(p, scopeName) with the migration fallback
// attached: while the migration is not recorded complete, Get of a name
// missing from the scope reads the bare name instead, but only for names
// this migration's rules move into scopeName. This is the view a program
// should use for its own secrets while the migration may still be pending.
// Errors are those of scope.Scoped and Validate.
func (m Migration) Fallback(p store.Provider, scopeName string) (*scope.View, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	sv, err := scope.Scoped(p, scopeName)
	if err != nil {
		return nil, err
	}
	legacy := func(name string) bool {
		r, ok := m.match(name)
		return ok && r.Scope == scopeName
	}
	return sv.WithFallback(legacy, func(ctx context.Context) (bool, error) { return m.Done(ctx, p) }), nil
}
