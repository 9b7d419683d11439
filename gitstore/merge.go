package gitstore

import (
	"bytes"
	"errors"
	"slices"
	"strings"

	"github.com/hush-secrets/hush/store"
)

// ErrConflict means a three-way merge found names that both sides changed
// incompatibly. Test for it with errors.Is.
var ErrConflict = errors.New("merge conflict")

// Conflict is one name the merge could not decide, or (Name empty) the
// recipients. It never holds a value.
type Conflict struct {
	Name   string
	Reason string // e.g. "changed on both sides", "deleted by us, changed by them"
}

// recipientsConflict begins the Reason of a recipients conflict.
const recipientsConflict = "recipients changed on both sides"

// ConflictError lists the conflicting names of a merge. It wraps
// ErrConflict. Its message names the keys and never a value.
type ConflictError struct {
	Path      string // the store's path in the repository, if known
	Conflicts []Conflict
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	b.WriteString("merge conflict")
	if e.Path != "" {
		b.WriteString(" in " + e.Path)
	}
	b.WriteString(": ")
	for i, c := range e.Conflicts {
		if i > 0 {
			b.WriteString(", ")
		}
		if c.Name == "" {
			b.WriteString(c.Reason)
			continue
		}
		b.WriteString(c.Name + " (" + c.Reason + ")")
	}
	return b.String()
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// Merge merges two versions of a store, ours and theirs, that descend from
// base. A nil base (or one with no entries and recipients) is an add/add
// merge with nothing in common.
//
// Entries merge by name. A name changed (or added, or deleted) on one side
// only takes that side's version. The value and the description merge
// separately, so one side changing a value and the other its description
// is no conflict. A name changed on both sides to different values, changed
// on one side and deleted on the other, or added on both sides with
// different values, is a conflict; the merged snapshot then holds our
// version of that name, so it is always a valid store. Recipients merge as
// sets of keys (see store.SameRecipient), three-way: a change on one side
// only is taken; changes on both sides to different sets are a conflict
// (a Conflict with an empty Name whose Reason names the recipients each
// side added and removed), and the merged snapshot keeps our recipients
// until a person decides, because silently keeping a recipient one side
// removed gives a removed member the rotated secrets.
//
// The fingerprint key (see [FingerprintKeyName]) never conflicts: when the
// sides disagree, the lexically smaller key wins, so every clone converges
// on the same one.
//
// The store key follows [store.MergeIntegrity], so that a member's merge
// never trips another member's integrity check. The result is armored if
// ours is. Merge never modifies its arguments.
func Merge(base, ours, theirs *store.Snapshot) (*store.Snapshot, []Conflict) {
	if base == nil {
		base = &store.Snapshot{}
	}
	rs, rc := mergeRecipients(base.Recipients, ours.Recipients, theirs.Recipients)
	out := &store.Snapshot{
		Recipients: rs,
		Entries:    make(map[string]store.SnapshotEntry),
		Armored:    ours.Armored,
	}
	store.MergeIntegrity(out, ours, theirs) // readers of either side accept the merge
	var conflicts []Conflict
	if rc != nil {
		conflicts = append(conflicts, *rc)
	}
	for _, name := range unionNames(base, ours, theirs) {
		o, inO := base.Entries[name]
		a, inA := ours.Entries[name]
		b, inB := theirs.Entries[name]
		e, keep, reason := mergeEntry(o, inO, a, inA, b, inB)
		if reason != "" && name == FingerprintKeyName && inA && inB {
			e, keep, reason = a, true, ""
			if bytes.Compare(b.Value, a.Value) < 0 {
				e = b
			}
		}
		if reason != "" {
			conflicts = append(conflicts, Conflict{Name: name, Reason: reason})
			e, keep = a, inA // ours stands until a person decides
		}
		if keep {
			out.Entries[name] = e
		}
	}
	return out, conflicts
}

func unionNames(ss ...*store.Snapshot) []string {
	var names []string
	for _, s := range ss {
		for n := range s.Entries {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// mergeEntry merges one name. keep reports whether the name exists in the
// result; a non-empty reason is a conflict.
func mergeEntry(o store.SnapshotEntry, inO bool, a store.SnapshotEntry, inA bool, b store.SnapshotEntry, inB bool) (e store.SnapshotEntry, keep bool, reason string) {
	changedA := inA != inO || (inA && !sameContent(a, o))
	changedB := inB != inO || (inB && !sameContent(b, o))
	switch {
	case !changedA:
		return b, inB, ""
	case !changedB:
		return a, inA, ""
	case !inA && !inB:
		return e, false, "" // deleted on both sides
	case !inA:
		return e, false, "deleted by us, changed by them"
	case !inB:
		return e, false, "changed by us, deleted by them"
	}
	// Both sides hold the name and changed it: merge field by field.
	var baseValue []byte
	if inO {
		baseValue = o.Value
	}
	value, ok := merge3(baseValue, inO, a.Value, b.Value, bytes.Equal)
	if !ok {
		if inO {
			return e, false, "changed on both sides"
		}
		return e, false, "added on both sides"
	}
	desc, ok := merge3(o.Description, true, a.Description, b.Description, func(x, y string) bool { return x == y })
	if !ok {
		return e, false, "description changed on both sides"
	}
	e = store.SnapshotEntry{Value: value, Description: desc, Created: a.Created, Updated: a.Updated}
	if !b.Created.IsZero() && (e.Created.IsZero() || b.Created.Before(e.Created)) {
		e.Created = b.Created
	}
	if b.Updated.After(e.Updated) {
		e.Updated = b.Updated
	}
	return e, true, ""
}

// merge3 merges one field. With no base (hasBase false) only equal sides
// merge.
func merge3[T any](o T, hasBase bool, a, b T, eq func(x, y T) bool) (T, bool) {
	switch {
	case eq(a, b):
		return a, true
	case hasBase && eq(a, o):
		return b, true
	case hasBase && eq(b, o):
		return a, true
	}
	return a, false
}

// sameContent compares what a person sets: the value and the description.
// Timestamps follow from those.
func sameContent(x, y store.SnapshotEntry) bool {
	return bytes.Equal(x.Value, y.Value) && x.Description == y.Description
}

// mergeRecipients merges the recipient sets three-way, comparing keys:
// the side that changed the set wins, in its order. When both changed it
// to different sets, the result is ours and the conflict names the
// changes.
func mergeRecipients(base, ours, theirs []string) ([]string, *Conflict) {
	changedA, changedB := !sameSet(base, ours), !sameSet(base, theirs)
	switch {
	case !changedB:
		return slices.Clone(ours), nil
	case !changedA:
		return slices.Clone(theirs), nil
	case sameSet(ours, theirs):
		return slices.Clone(ours), nil
	}
	reason := recipientsConflict + ": ours " + setChange(base, ours) + ", theirs " + setChange(base, theirs)
	return slices.Clone(ours), &Conflict{Reason: reason}
}

// RecipientChanges returns the recipients in to and not in from (added)
// and the reverse (removed), comparing keys.
func RecipientChanges(from, to []string) (added, removed []string) {
	for _, r := range to {
		if !containsKey(from, r) {
			added = append(added, r)
		}
	}
	for _, r := range from {
		if !containsKey(to, r) {
			removed = append(removed, r)
		}
	}
	return added, removed
}

// setChange describes the change from base to side: "+R -S".
func setChange(base, side []string) string {
	added, removed := RecipientChanges(base, side)
	var parts []string
	for _, r := range added {
		parts = append(parts, "+"+safe(r))
	}
	for _, r := range removed {
		parts = append(parts, "-"+safe(r))
	}
	return strings.Join(parts, " ")
}

func containsKey(rs []string, r string) bool {
	return slices.ContainsFunc(rs, func(x string) bool { return store.SameRecipient(x, r) })
}

// sameSet reports whether a and b hold the same keys.
func sameSet(a, b []string) bool {
	added, removed := RecipientChanges(a, b)
	return len(added) == 0 && len(removed) == 0
}
