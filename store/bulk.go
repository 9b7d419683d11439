package store

import (
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hush-secrets/hush/store/internal/format"
)

// ValuesTx is a Tx that reads many names in one call. [TxValues] uses the
// method when a Tx has it.
type ValuesTx interface {
	Tx

	// Values returns the values of names, in the order of names: nil for
	// an absent name, and a non-nil slice (empty for an empty value) for
	// a present one. Its errors are those of a loop of Get calls that
	// takes not-found as absence and stops at any other error (a refused
	// name): the values of the names before the failing one and that
	// name's error, the *KeyError Get would give for it.
	Values(names []string) ([][]byte, error)
}

// SetManyTx is a Tx that sets many names in one call. [TxSetMany] uses the
// method when a Tx has it.
type SetManyTx interface {
	Tx

	// SetMany sets names[i] to values[i] for every i, as a loop of Set
	// calls in that order would, with the same errors: a loop that stops
	// at the first name or value refused and returns its *KeyError. On
	// error, which names before the failing one the Tx holds as set is
	// unspecified: the batch must fail with the error, which discards
	// them. It panics if the two slices differ in length.
	SetMany(names []string, values [][]byte) error
}

// TxValues returns the values of names in tx, in the order of names, nil
// for an absent name (see [ValuesTx]):
//
//   - if tx is a [ValuesTx], TxValues calls its method: the file and
//     memory stores, and the views of package scope over them, check and
//     look every name up in one pass;
//   - otherwise it calls tx.Get for each name in turn.
//
// Either way, on error it returns the values of the names before the
// failing one and that name's error, tx's, unchanged.
func TxValues(tx Tx, names []string) ([][]byte, error) {
	if v, ok := tx.(ValuesTx); ok {
		return v.Values(names)
	}
	return valuesOf(tx.Get, names)
}

// valuesOf calls get for each name, taking not-found as absence (a nil
// value) and stopping at any other error.
func valuesOf(get func(name string) ([]byte, error), names []string) ([][]byte, error) {
	vals := make([][]byte, 0, len(names))
	for _, n := range names {
		v, err := get(n)
		switch {
		case errors.Is(err, ErrNotFound):
			v = nil
		case err != nil:
			return vals, err
		case v == nil:
			v = []byte{}
		}
		vals = append(vals, v)
	}
	return vals, nil
}

// TxSetMany sets names[i] to values[i] in tx for every i (see
// [SetManyTx]):
//
//   - if tx is a [SetManyTx], TxSetMany calls its method: the file and
//     memory stores build the change in one pass, not one Set a name;
//   - otherwise it calls tx.Set for each name in turn.
//
// Either way the error, if any, is that of the first name refused, tx's,
// unchanged, and the batch must then fail with it. It panics if the two
// slices differ in length.
func TxSetMany(tx Tx, names []string, values [][]byte) error {
	if len(names) != len(values) {
		panic("store: TxSetMany: names and values differ in length")
	}
	if s, ok := tx.(SetManyTx); ok {
		return s.SetMany(names, values)
	}
	for i, n := range names {
		if err := tx.Set(n, values[i]); err != nil {
			return err
		}
	}
	return nil
}

var (
	_ ValuesTx  = (*docTx)(nil)
	_ SetManyTx = (*docTx)(nil)
)

// Values implements [ValuesTx]: each name checked and looked up in turn,
// with no error built for an absent one.
func (t *docTx) Values(names []string) ([][]byte, error) {
	vals := make([][]byte, 0, len(names))
	for _, n := range names {
		if err := ValidateExistingName(n); err != nil {
			return vals, &KeyError{Op: "get", Name: n, Err: err}
		}
		v, ok := t.doc.value(n)
		if ok && v == nil {
			v = []byte{}
		}
		vals = append(vals, v)
	}
	return vals, nil
}

// SetMany implements [SetManyTx]. Every name and value is checked before
// anything changes, so on error the Tx holds none of them. The new
// entries are built in one pass: one array of entries, one string holding
// every value that is text, and, when the names come in order after every
// change the Tx holds (an import into a store, of a sorted file or not),
// the clone's list of changes extended once, with no map and no insert a
// name.
func (t *docTx) SetMany(names []string, values [][]byte) error {
	if len(names) != len(values) {
		panic("store: SetMany: names and values differ in length")
	}
	size := 0
	for i, n := range names {
		if err := ValidateName(n); err != nil {
			return &KeyError{Op: "set", Name: n, Err: err}
		}
		if err := validateValue(values[i]); err != nil {
			return &KeyError{Op: "set", Name: n, Err: err}
		}
		size += len(values[i])
	}
	// The order in which to put them: names sorted (nil: as given). A
	// name given twice (rare: an importer refuses it) is set by a loop of
	// Set, which is then exactly what the loop does.
	var order []int
	if !slices.IsSorted(names) {
		order = make([]int, len(names))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return strings.Compare(names[a], names[b]) })
	}
	at := func(k int) int {
		if order == nil {
			return k
		}
		return order[k]
	}
	for k := 1; k < len(names); k++ {
		if names[at(k-1)] == names[at(k)] {
			for i, n := range names {
				if err := t.Set(n, values[i]); err != nil {
					return err
				}
			}
			return nil
		}
	}
	// text holds every value that is valid UTF-8, one after the other;
	// each entry's Value is a piece of it.
	var text strings.Builder
	text.Grow(size)
	es := make([]docEntry, len(names))
	for i, v := range values {
		if utf8.Valid(v) {
			text.Write(v)
			continue
		}
		es[i].Value, es[i].Encoding = format.EncodeValue(v)
	}
	all, off := text.String(), 0
	keys, vals := make([]string, 0, len(names)), make([]*docEntry, 0, len(names))
	for i, v := range values {
		e := &es[i]
		e.Name, e.Created, e.Updated = names[i], t.now, t.now
		if e.Encoding == "" {
			e.Value, off = all[off:off+len(v)], off+len(v)
		}
	}
	for k := range names {
		e := &es[at(k)]
		if old, ok := t.doc.get(e.Name); ok {
			e.Created, e.Description = old.Created, old.Description
			if old.Value == e.Value && old.Encoding == e.Encoding {
				continue // unchanged: no write, keep the updated time
			}
		}
		keys, vals = append(keys, e.Name), append(vals, e)
	}
	if len(keys) == 0 {
		return nil
	}
	t.doc.putSorted(keys, vals)
	t.changed = true
	return nil
}
