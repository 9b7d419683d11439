package store

import (
	"errors"
	"math"
	"slices"
	"strings"
	"time"
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
	// them. It keeps neither slice (the store copies what it keeps), and
	// panics if the two differ in length.
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
// with no error built for an absent one, and found at once when it comes
// right after the name before it in the store (see cursor).
func (t *docTx) Values(names []string) ([][]byte, error) {
	if t.doc.bare() {
		// Nothing to look up (an import into a new store): the names
		// checked, and every value absent.
		for i, n := range names {
			if err := ValidateExistingName(n); err != nil {
				return make([][]byte, i), &KeyError{Op: "get", Name: n, Err: err}
			}
		}
		return make([][]byte, len(names)), nil
	}
	vals := make([][]byte, 0, len(names))
	var c cursor
	for _, n := range names {
		if err := ValidateExistingName(n); err != nil {
			return vals, &KeyError{Op: "get", Name: n, Err: err}
		}
		v, ok := t.doc.valueAt(n, &c)
		if ok && v == nil {
			v = []byte{}
		}
		vals = append(vals, v)
	}
	return vals, nil
}

// SetMany implements [SetManyTx]. Every name and value is checked before
// anything changes, so on error the Tx holds none of them. The change is
// built in one pass, not one Set a name: the names in order, the values
// that are text copied into one string, and, when the names come after
// every change the Tx holds (an import into a store), no entry built at
// all until the store is encoded (see bulkSet).
func (t *docTx) SetMany(names []string, values [][]byte) error {
	if len(names) != len(values) {
		panic("store: SetMany: names and values differ in length")
	}
	for i, n := range names {
		if err := ValidateName(n); err != nil {
			return &KeyError{Op: "set", Name: n, Err: err}
		}
		if err := validateValue(values[i]); err != nil {
			return &KeyError{Op: "set", Name: n, Err: err}
		}
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
	// Which to put, in name order: all but those whose value is already
	// the stored one (Set leaves them, and their updated time, as they
	// are). put lists them by index in names once one is left out; while
	// none is, change j is names[at(j)].
	b := &bulkSet{now: t.now}
	var put []int
	count, size := 0, 0
	bare := t.doc.bare() // no name to look up
	for k := range names {
		i := at(k)
		v := values[i]
		text := utf8.Valid(v)
		var old *docEntry
		ok := false
		if !bare {
			old, ok = t.doc.get(names[i])
		}
		if ok {
			same := text && old.Encoding == "" && old.Value == string(v)
			if !text {
				val, enc := format.EncodeValue(v)
				same = old.Value == val && old.Encoding == enc
			}
			if same {
				if put == nil {
					put = make([]int, count, len(names))
					for j := range put {
						put[j] = at(j)
					}
				}
				continue
			}
			if b.kept == nil {
				b.kept = map[int]*docEntry{}
			}
			b.kept[count] = old
		}
		if !text {
			if b.encoded == nil {
				b.encoded = map[int]string{}
			}
			val, enc := format.EncodeValue(v)
			if enc == "" { // text now: changed since the check (see below)
				return &KeyError{Op: "set", Name: names[i], Err: errValueChanged}
			}
			b.encoded[count] = val
		} else {
			size += len(v)
		}
		if put != nil {
			put = append(put, i)
		}
		count++
	}
	if count == 0 {
		return nil
	}
	if size > math.MaxUint32 {
		// Past what the offsets hold (and what any store holds: the
		// write will fail): a loop of Set, as the caller's would be.
		for i, n := range names {
			if err := t.Set(n, values[i]); err != nil {
				return err
			}
		}
		return nil
	}
	index := func(j int) int {
		if put == nil {
			return at(j)
		}
		return put[j]
	}
	var all strings.Builder
	all.Grow(size)
	keys := make([]string, count)
	b.ends = make([]uint32, count)
	for j := range count {
		i := index(j)
		keys[j] = names[i]
		if _, ok := b.encoded[j]; !ok {
			// What is kept as text is the copy, checked again: a value
			// whose bytes another writer changes meanwhile (an input
			// file mapped into memory) is never stored as text that is
			// not UTF-8, which the encoder would make another value.
			from := all.Len()
			all.Write(values[i])
			if !utf8.ValidString(all.String()[from:]) {
				return &KeyError{Op: "set", Name: names[i], Err: errValueChanged}
			}
		}
		b.ends[j] = uint32(all.Len())
	}
	b.text = all.String()
	t.doc.putBulk(keys, b)
	t.changed = true
	return nil
}

// errValueChanged is the error of a SetMany whose value changed while it
// was set (see SetMany).
var errValueChanged = errors.New("the value changed while it was stored")

// bare reports whether d certainly holds no entry, cheaply: a document
// with none, or a clone of one with no change yet.
func (d *document) bare() bool {
	if d.base != nil {
		return len(d.keys) == 0 && d.base.len() == 0
	}
	return d.len() == 0
}

// bulkSet holds the changes one SetMany put into a clone without an entry
// for each: only their names (the clone's keys from first on, one a
// value, whose vals all point to mark) and their values, until the store is encoded, which
// builds each entry in turn in one it reuses (see each). Each value of a
// 100,000-entry import then costs its bytes, its name and an offset, not
// an entry of a hundred bytes that a collection must scan. A bulkSet never changes
// once built, so clones of the clone share it.
type bulkSet struct {
	mark    docEntry
	first   int               // the clone's key index of change 0 (changes put after the bulk follow it)
	text    string            // the values that are text, one after another
	ends    []uint32          // where change j's value ends in text
	encoded map[int]string    // change j's base64 Value, if not text
	kept    map[int]*docEntry // the entry change j replaces, if any
	now     time.Time         // Created (of a new name) and Updated
}

// fill sets e to the entry of the clone's change i, named name.
func (b *bulkSet) fill(e *docEntry, name string, i int) {
	j := i - b.first
	start := uint32(0)
	if j > 0 {
		start = b.ends[j-1]
	}
	*e = docEntry{Name: name, Value: b.text[start:b.ends[j]], Created: b.now, Updated: b.now}
	if v, ok := b.encoded[j]; ok {
		e.Value, e.Encoding = v, format.Base64
	}
	if old := b.kept[j]; old != nil {
		e.Created, e.Description = old.Created, old.Description
	}
}

// val returns the entry of change i of a clone (nil: deleted), built
// anew for a bulk change.
func (d *document) val(i int) *docEntry {
	e := d.vals[i]
	if b := d.bulk; b != nil && e == &b.mark {
		e = new(docEntry)
		b.fill(e, d.keys[i], i)
	}
	return e
}

// unbulk builds the entries of d's bulk changes, before d changes again.
func (d *document) unbulk() {
	b := d.bulk
	es := make([]docEntry, len(b.ends))
	for j := range es {
		i := b.first + j
		b.fill(&es[j], d.keys[i], i)
		d.vals[i] = &es[j]
	}
	d.bulk = nil
}

// putBulk records in a clone the changes of b, named keys (sorted, each
// once): after the clone's changes if they all come after them (an
// import), else entry by entry. It keeps keys.
func (d *document) putBulk(keys []string, b *bulkSet) {
	if d.bulk != nil {
		d.unbulk()
	}
	n := len(d.keys)
	if d.base == nil || d.index != nil || n > 0 && keys[0] <= d.keys[n-1] {
		for i, k := range keys {
			e := new(docEntry)
			b.fill(e, k, i)
			d.put(k, e)
		}
		return
	}
	b.first = n
	if n == 0 {
		d.keys = keys
	} else {
		d.keys = append(d.keys, keys...)
	}
	d.vals = slices.Grow(d.vals, len(keys))
	for range keys {
		d.vals = append(d.vals, &b.mark)
	}
	d.bulk = b
}
