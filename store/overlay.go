package store

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/hush-secrets/hush/store/internal/format"
)

// A write changes a few entries of a document that may hold a hundred
// thousand. So that its cost is that of encrypting the store and little
// more, a write builds nothing it does not need: the document it changes
// is a clone that keeps the document read as its base and holds only the
// changes; encoding it merges the changes, in name order, into the base's
// entries, which are already sorted, and copies each unchanged entry from
// the plaintext read as it is (format.Encoder); and the encoding streams
// into age's writer, so no copy of the whole plaintext is ever made.

// clone returns a copy of d to change: a document over d's entries that
// records changes without affecting d. A clone of a clone shares its base
// and copies its changes, so a base is never itself a clone.
func (d *document) clone() *document {
	c := &document{Version: d.Version, Recipients: slices.Clone(d.Recipients), key: d.key, rotations: d.rotations, base: d}
	if d.base != nil {
		names, vals := d.sortedChanges()
		c.base, c.keys, c.vals, c.bulk = d.base, slices.Clone(names), slices.Clone(vals), d.bulk
	}
	c.once.Do(func() {})
	return c
}

// change returns the change of a clone to name: its entry (nil for a
// deletion), and whether there is one.
func (d *document) change(name string) (*docEntry, bool) {
	if d.index != nil {
		i, ok := d.index[name]
		if !ok {
			return nil, false
		}
		return d.val(i), true
	}
	if n := len(d.keys); n == 0 || name > d.keys[n-1] {
		return nil, false
	}
	i, ok := slices.BinarySearch(d.keys, name)
	if !ok {
		return nil, false
	}
	return d.val(i), true
}

// put sets the entry name to e, or deletes it if e is nil.
func (d *document) put(name string, e *docEntry) {
	switch {
	case d.base != nil:
		d.putChange(name, e)
	case e == nil:
		delete(d.all(), name)
	default:
		d.all()[name] = e
	}
}

// putChange records in a clone that name is set to e (nil: deleted).
// Names mostly come in order (an import of a sorted file): each is then
// appended, with no map and no sort, and after a bulk change (see
// bulkSet) without building its entries.
func (d *document) putChange(name string, e *docEntry) {
	n := len(d.keys)
	if d.bulk != nil && (d.index != nil || name <= d.keys[n-1]) {
		d.unbulk()
	}
	switch {
	case d.index != nil:
		if i, ok := d.index[name]; ok {
			d.vals[i] = e
			return
		}
		d.index[name] = n
	case n == 0 || name > d.keys[n-1]:
	default:
		if i, ok := slices.BinarySearch(d.keys, name); ok {
			d.vals[i] = e
			return
		}
		d.index = make(map[string]int, n+1)
		for i, s := range d.keys {
			d.index[s] = i
		}
		d.index[name] = n
	}
	d.keys = append(d.keys, name)
	d.vals = append(d.vals, e)
}

// has reports whether the base of a clone has an entry name.
func (d *document) has(name string) bool {
	_, ok := d.base.get(name)
	return ok
}

// overlayLen is len of a clone.
func (d *document) overlayLen() int {
	n := d.base.len()
	for i, name := range d.keys {
		switch e, in := d.vals[i], d.has(name); {
		case e == nil && in:
			n--
		case e != nil && !in:
			n++
		}
	}
	return n
}

// merged is all of a clone: a new map of its entries.
func (d *document) merged() map[string]*docEntry {
	m := maps.Clone(d.base.all())
	for i, name := range d.keys {
		if e := d.val(i); e == nil {
			delete(m, name)
		} else {
			m[name] = e
		}
	}
	return m
}

// overlayList is list of a clone.
func (d *document) overlayList() []Entry {
	es := make([]Entry, 0, d.len())
	d.each(func(fd *format.Document, i int, e *docEntry) {
		if e == nil {
			fe := &fd.Entries[i]
			es = append(es, Entry{Name: fd.String(fe.Name), Description: fd.String(fe.Description), Created: fd.Time(fe.Created), Updated: fd.Time(fe.Updated)})
			return
		}
		es = append(es, Entry{Name: e.Name, Description: e.Description, Created: e.Created, Updated: e.Updated})
	})
	return es
}

// each calls fn for every entry of d in name order: for an entry of a
// decoded base as it was read, with the decoded document and its index (e
// is then nil); for any other, with the entry.
func (d *document) each(fn func(fd *format.Document, i int, e *docEntry)) {
	b := d
	if d.base != nil {
		b = d.base
	}
	names, vals := d.sortedChanges()
	// val is vals[j], the entry of a bulk change built in one entry
	// reused (fn copies what it keeps).
	var scratch docEntry
	val := func(j int) *docEntry {
		if e, b := vals[j], d.bulk; b != nil && e == &b.mark {
			b.fill(&scratch, names[j], j)
			return &scratch
		}
		return vals[j]
	}
	j := 0
	// changed passes on the changes named before name, and reports
	// whether name itself is changed (and was passed on).
	changed := func(name []byte) bool {
		for ; j < len(names) && names[j] < string(name); j++ {
			if e := val(j); e != nil {
				fn(nil, 0, e)
			}
		}
		if j < len(names) && names[j] == string(name) {
			if e := val(j); e != nil {
				fn(nil, 0, e)
			}
			j++
			return true
		}
		return false
	}
	if fd := b.decoded; fd != nil {
		for i := range fd.Entries {
			if !changed(fd.Bytes(fd.Entries[i].Name)) {
				fn(fd, i, nil)
			}
		}
	} else {
		es := slices.SortedFunc(maps.Values(b.all()), func(x, y *docEntry) int { return strings.Compare(x.Name, y.Name) })
		var name []byte
		for _, e := range es {
			if name = append(name[:0], e.Name...); !changed(name) {
				fn(nil, 0, e)
			}
		}
	}
	for ; j < len(names); j++ {
		if e := val(j); e != nil {
			fn(nil, 0, e)
		}
	}
}

// sortedChanges returns the names of the changes of a clone and their
// entries, in name order (for a bulk change, the bulk's mark: see val).
// It does not modify d, which may be shared once written.
func (d *document) sortedChanges() ([]string, []*docEntry) {
	if d.index == nil {
		return d.keys, d.vals
	}
	perm := make([]int, len(d.keys))
	for i := range perm {
		perm[i] = i
	}
	slices.SortFunc(perm, func(a, b int) int { return strings.Compare(d.keys[a], d.keys[b]) })
	names, vals := make([]string, len(perm)), make([]*docEntry, len(perm))
	for k, i := range perm {
		names[k], vals[k] = d.keys[i], d.vals[i]
	}
	return names, vals
}

// encodeTo writes the plaintext of d to w, byte for byte as
// format.EncodeWith would return it, and returns its length.
func (d *document) encodeTo(w io.Writer) (int64, error) {
	enc := format.NewEncoder(w, d.Version, d.Recipients)
	d.each(func(fd *format.Document, i int, e *docEntry) {
		if e == nil {
			enc.Entry(fd, i)
		} else {
			enc.Record((*format.Record)(e))
		}
	})
	return enc.Close(format.Integrity{StoreKey: d.key, Rotations: d.rotations})
}

// marshal returns the plaintext of d. A write streams it instead (see
// encodeTo); this is for the memory store and tests.
func (d *document) marshal() ([]byte, error) {
	var buf bytes.Buffer
	c := &capped{w: &buf}
	if _, err := d.encodeTo(c); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// capped passes on the first MaxStoreSize bytes written to it and counts
// all of them, so that a plaintext over the limit is refused (check) with
// its size, at the cost of encoding it, but not of encrypting it.
type capped struct {
	w io.Writer
	n int64
}

func (c *capped) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.n > MaxStoreSize {
		return len(p), nil
	}
	return c.w.Write(p)
}

// check returns an error wrapping ErrLimit for a plaintext over the limit.
func (c *capped) check() error {
	if c.n > MaxStoreSize {
		return fmt.Errorf("%w: store would be %d bytes, the limit is %d", ErrLimit, c.n, MaxStoreSize)
	}
	return nil
}

// names returns the entry names, sorted: list without the metadata. The
// names are substrings of one string: one allocation, not one a name.
func (d *document) names() []string {
	n, size := 0, 0
	d.each(func(fd *format.Document, i int, e *docEntry) {
		n++
		if e == nil {
			size += fd.Entries[i].Name.Len()
		} else {
			size += len(e.Name)
		}
	})
	if n == 0 {
		return nil
	}
	var all strings.Builder
	all.Grow(size)
	ends := make([]int, 0, n)
	d.each(func(fd *format.Document, i int, e *docEntry) {
		if e == nil {
			all.Write(fd.Bytes(fd.Entries[i].Name))
		} else {
			all.WriteString(e.Name)
		}
		ends = append(ends, all.Len())
	})
	s := all.String()
	out := make([]string, n)
	start := 0
	for i, end := range ends {
		out[i], start = s[start:end], end
	}
	return out
}
