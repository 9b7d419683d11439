package store

import "time"

// SetTimes sets the created and updated times of the existing entry name
// inside an atomic batch of the file or memory store. Ordinary writes set
// both times themselves; SetTimes is for rebuilding a store from a copy of
// its contents (hush restore), where they must come back as they were.
// The times are stored in UTC, to the nanosecond.
//
// It returns an error wrapping ErrNotFound if name is absent from the
// batch, and one wrapping ErrNoBatch if tx is not a Tx of this package's
// stores: a Tx that forwards to a plain Provider has no times to set, and
// a decorator's Tx (package scope) would address another key.
func SetTimes(tx Tx, name string, created, updated time.Time) error {
	t, ok := tx.(*docTx)
	if !ok {
		return &KeyError{Op: "set times", Name: name, Err: ErrNoBatch}
	}
	old, ok := t.doc.get(name)
	if !ok {
		return &KeyError{Op: "set times", Name: name, Err: ErrNotFound}
	}
	created, updated = created.UTC().Round(0), updated.UTC().Round(0)
	if old.Created.Equal(created) && old.Updated.Equal(updated) {
		return nil
	}
	ne := *old
	ne.Created, ne.Updated = created, updated
	t.doc.put(name, &ne)
	t.changed = true
	return nil
}
