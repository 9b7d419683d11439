package store

import (
	"errors"
	"slices"
)

// DeleteManyTx is a Tx that deletes many names in one call.
// [TxDeleteMany] uses the method when a Tx has it.
type DeleteManyTx interface {
	Tx

	// DeleteMany deletes every name of names that is present and ignores
	// the absent ones, as a loop of Delete calls that takes not-found as
	// done would, with the same errors: a loop that stops at the first
	// name refused and returns its *KeyError. On error, which names
	// before the failing one the Tx holds as deleted is unspecified: the
	// batch must fail with the error, which discards them. It does not
	// keep names.
	DeleteMany(names []string) error
}

// TxDeleteMany deletes the names of names present in tx and ignores the
// absent ones (see [DeleteManyTx]):
//
//   - if tx is a [DeleteManyTx], TxDeleteMany calls its method: the file
//     and memory stores, and the views of package scope over them, record
//     the deletions in one pass;
//   - otherwise it calls tx.Delete for each name in turn, ignoring
//     not-found.
//
// Either way the error, if any, is that of the first name refused, tx's,
// unchanged, and the batch must then fail with it.
func TxDeleteMany(tx Tx, names []string) error {
	if d, ok := tx.(DeleteManyTx); ok {
		return d.DeleteMany(names)
	}
	for _, n := range names {
		if err := tx.Delete(n); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

var _ DeleteManyTx = (*docTx)(nil)

// DeleteMany implements [DeleteManyTx]. Every name is checked before
// anything changes, so on error the Tx holds none of the deletions. The
// names present are looked up without building their entries, and, when
// the Tx's changes are a sorted list (no name put out of order yet), the
// deletions are merged into it in one pass, not one insertion a name.
func (t *docTx) DeleteMany(names []string) error {
	for _, n := range names {
		if err := ValidateExistingName(n); err != nil {
			return &KeyError{Op: "delete", Name: n, Err: err}
		}
	}
	var present []string
	var c cursor
	for _, n := range names {
		if t.doc.existsAt(n, &c) {
			present = append(present, n)
		}
	}
	if len(present) == 0 {
		return nil
	}
	t.changed = true
	if !slices.IsSorted(present) {
		present = slices.Clone(present)
		slices.Sort(present)
	}
	present = slices.Compact(present)
	t.doc.deleteSorted(present)
	return nil
}

// exists reports whether d has an entry name, without building it.
func (d *document) exists(name string) bool { return d.existsAt(name, nil) }

// existsAt is exists, with the lookups through c (see cursor).
func (d *document) existsAt(name string, c *cursor) bool {
	if d.base != nil {
		if i, ok := c.inChanges(d, name); ok {
			return d.vals[i] != nil
		}
		return d.base.existsAt(name, c)
	}
	if fd := d.decoded; fd != nil {
		_, ok := c.inBase(fd, name)
		return ok
	}
	_, ok := d.all()[name]
	return ok
}

// changeIndex returns the index in d.keys of the change of a clone to
// name, and whether there is one.
func (d *document) changeIndex(name string) (int, bool) {
	if d.index != nil {
		i, ok := d.index[name]
		return i, ok
	}
	if n := len(d.keys); n == 0 || name > d.keys[n-1] || name < d.keys[0] {
		return 0, false
	}
	return slices.BinarySearch(d.keys, name)
}

// deleteSorted deletes names (sorted, each once, each present) from d.
// In a clone whose changes are sorted, it merges them into the changes:
// one new list, no map, and a bulk change (see bulkSet) kept unbuilt if
// every name sorts before it. Otherwise it puts each in turn.
func (d *document) deleteSorted(names []string) {
	if d.base == nil || d.index != nil {
		for _, n := range names {
			d.put(n, nil)
		}
		return
	}
	if b := d.bulk; b != nil && names[len(names)-1] >= d.keys[b.first] {
		d.unbulk()
	}
	keys := make([]string, 0, len(d.keys)+len(names))
	vals := make([]*docEntry, 0, len(d.keys)+len(names))
	i := 0
	for _, n := range names {
		for ; i < len(d.keys) && d.keys[i] < n; i++ {
			keys, vals = append(keys, d.keys[i]), append(vals, d.vals[i])
		}
		if i < len(d.keys) && d.keys[i] == n {
			i++ // a change to n: now its deletion
		}
		keys, vals = append(keys, n), append(vals, nil)
	}
	keys, vals = append(keys, d.keys[i:]...), append(vals, d.vals[i:]...)
	if b := d.bulk; b != nil {
		// The bulk changes moved up by the names inserted before them: a
		// copy of b (shared with the clones of d) with its marks.
		nb := *b
		nb.first = b.first + len(keys) - len(d.keys)
		for j := nb.first; j < nb.first+len(nb.ends); j++ {
			vals[j] = &nb.mark
		}
		d.bulk = &nb
	}
	d.keys, d.vals = keys, vals
}

// bulkValue returns a copy of the value of a clone's bulk change i, from
// the bulk's text, without building its entry.
func (d *document) bulkValue(i int) []byte {
	b := d.bulk
	j := i - b.first
	if _, ok := b.encoded[j]; ok {
		return d.val(i).bytes()
	}
	start := uint32(0)
	if j > 0 {
		start = b.ends[j-1]
	}
	return []byte(b.text[start:b.ends[j]])
}

// isBulk reports whether change i of a clone is a bulk change.
func (d *document) isBulk(i int) bool {
	return d.bulk != nil && d.vals[i] == &d.bulk.mark
}
