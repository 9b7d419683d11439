package store

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hush-secrets/hush/store/internal/format"
)

// FormatVersion is the version of the plaintext document this package
// writes. Documents of this and every earlier version can be read.
const FormatVersion = format.Version

// document is the plaintext of a store: a versioned JSON object holding the
// recipient list and the entries (see package format for the grammar).
//
// A document decoded from a file is lazy: its entries stay the sorted
// spans that format.Decode returns until something needs the map (a
// write, a clone). A first Get is then a binary search, and reading a store
// costs little more than decrypting it. The lazy part stays here rather
// than in package format because it is the provider's policy (what a read
// costs, what a write copies), not the format's. Use get, all and list,
// never the fields.
type document struct {
	Version    int
	Recipients []string

	key       []byte   // the store key; nil in a document from before keys
	rotations [][]byte // rotation proofs, oldest first; see package format

	// Integrity bookkeeping (see check and checkPlugins), never copied
	// by clone.
	digest       [32]byte       // SHA-256 of the file read or written, if any
	fileID       fileID         // and its identity
	state        *AcceptedState // the accepted state when read (head only)
	stateErr     error          // or why it could not be read
	superseded   bool           // read as a superseded version: never written
	givenPlugins []string       // recipients given for this write

	once    sync.Once
	decoded *format.Document     // when decoded: the source, immutable
	entries map[string]*docEntry // built on demand when decoded; see all

	// A document cloned for a change (see clone and overlay.go) keeps the
	// document it came from, never modified, as its base, and holds only
	// the entries set since: keys[i] set to vals[i] (nil: deleted). While
	// the names were put in increasing order (an import of a sorted file),
	// index is nil and a name is found by binary search, or at once past
	// the last; once one comes out of order, index finds each.
	base  *document
	keys  []string
	vals  []*docEntry
	index map[string]int
	// bulk, when set, holds the entries of the changes one SetMany put
	// without building them (see bulkSet); never with an index.
	bulk *bulkSet

	// readBack, when set, is the check a batch registered with
	// [ReadBackTx.ReadBack], run on the file written before it replaces
	// the store (see readback.go); never copied by clone.
	readBack ReadBackCheck
}

// docEntry is one secret, as format.Record: Value holds the bytes as text
// when they are valid UTF-8; otherwise Encoding is "base64" and Value is
// their standard base64 encoding. Entries are treated as immutable.
type docEntry format.Record

func newDocument(recipients []string) *document {
	d := &document{Version: FormatVersion, Recipients: recipients, key: newStoreKey(), entries: map[string]*docEntry{}}
	d.once.Do(func() {})
	return d
}

// newEntry returns an entry holding value.
func newEntry(name string, value []byte) *docEntry {
	v, enc := format.EncodeValue(value)
	return &docEntry{Name: name, Value: v, Encoding: enc}
}

func (e *docEntry) bytes() []byte { return (*format.Record)(e).Bytes() }

// decodeDocument parses and validates a whole plaintext document. Any
// defect rejects the whole document with a *DocumentError, a plaintext
// over MaxStoreSize with an error wrapping ErrLimit.
//
// On success the document refers to b: the caller must never modify it
// again.
func decodeDocument(b []byte) (*document, error) {
	if len(b) > MaxStoreSize {
		return nil, fmt.Errorf("%w: document is %d bytes, the limit is %d", ErrLimit, len(b), MaxStoreSize)
	}
	fd, err := format.Decode(b)
	if err != nil {
		var fe *format.Error
		if errors.As(err, &fe) {
			return nil, &DocumentError{Reason: fe.Reason}
		}
		return nil, err
	}
	return &document{Version: fd.Version, Recipients: fd.Recipients, key: fd.StoreKey, rotations: fd.Rotations, decoded: fd}, nil
}

// all returns the entries as a map, materialising a decoded document. The
// map must not be modified except in a clone. Of a clone, it returns a
// new map each time.
func (d *document) all() map[string]*docEntry {
	if d.base != nil {
		return d.merged()
	}
	d.once.Do(func() {
		fd := d.decoded
		m := make(map[string]*docEntry, len(fd.Entries))
		for i := range fd.Entries {
			e := (*docEntry)(fd.Record(&fd.Entries[i]))
			m[e.Name] = e
		}
		d.entries = m
	})
	return d.entries
}

// get returns the entry for name.
func (d *document) get(name string) (*docEntry, bool) {
	if d.base != nil {
		if e, ok := d.change(name); ok {
			return e, e != nil
		}
		return d.base.get(name)
	}
	if fd := d.decoded; fd != nil {
		i, ok := fd.Find(name)
		if !ok {
			return nil, false
		}
		return (*docEntry)(fd.Record(&fd.Entries[i])), true
	}
	e, ok := d.all()[name]
	return e, ok
}

// value returns a copy of the value of the entry name: get's bytes,
// without building the entry's record (its strings and times) for an
// entry of a decoded base or a bulk change.
func (d *document) value(name string) ([]byte, bool) { return d.valueAt(name, nil) }

func (d *document) len() int {
	if d.base != nil {
		return d.overlayLen()
	}
	if d.decoded != nil {
		return len(d.decoded.Entries)
	}
	return len(d.all())
}

func (d *document) list() []Entry {
	if d.base != nil {
		return d.overlayList()
	}
	if fd := d.decoded; fd != nil {
		es := make([]Entry, len(fd.Entries))
		for i := range fd.Entries {
			e := &fd.Entries[i]
			es[i] = Entry{Name: fd.String(e.Name), Description: fd.String(e.Description), Created: fd.Time(e.Created), Updated: fd.Time(e.Updated)}
		}
		return es
	}
	m := d.all()
	es := make([]Entry, 0, len(m))
	for name, e := range m {
		es = append(es, Entry{Name: name, Description: e.Description, Created: e.Created, Updated: e.Updated})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Name < es[j].Name })
	return es
}

// docTx is a Tx over a private copy of a document.
type docTx struct {
	doc     *document
	now     time.Time
	changed bool
}

var _ Tx = (*docTx)(nil)

func (t *docTx) Get(name string) ([]byte, error) {
	if err := ValidateExistingName(name); err != nil {
		return nil, &KeyError{Op: "get", Name: name, Err: err}
	}
	v, ok := t.doc.value(name)
	if !ok {
		return nil, &KeyError{Op: "get", Name: name, Err: ErrNotFound}
	}
	return v, nil
}

func (t *docTx) Lookup(name string) (Entry, error) {
	if err := ValidateExistingName(name); err != nil {
		return Entry{}, &KeyError{Op: "lookup", Name: name, Err: err}
	}
	e, ok := t.doc.get(name)
	if !ok {
		return Entry{}, &KeyError{Op: "lookup", Name: name, Err: ErrNotFound}
	}
	return Entry{Name: name, Description: e.Description, Created: e.Created, Updated: e.Updated}, nil
}

func (t *docTx) Set(name string, value []byte) error {
	if err := ValidateName(name); err != nil {
		return &KeyError{Op: "set", Name: name, Err: err}
	}
	if err := validateValue(value); err != nil {
		return &KeyError{Op: "set", Name: name, Err: err}
	}
	ne := newEntry(name, value)
	ne.Created, ne.Updated = t.now, t.now
	if old, ok := t.doc.get(name); ok {
		ne.Created, ne.Description = old.Created, old.Description
		if old.Value == ne.Value && old.Encoding == ne.Encoding {
			return nil // unchanged: no write, keep the updated time
		}
	}
	t.doc.put(name, ne)
	t.changed = true
	return nil
}

func (t *docTx) SetDescription(name, description string) error {
	if err := ValidateExistingName(name); err != nil {
		return &KeyError{Op: "describe", Name: name, Err: err}
	}
	old, ok := t.doc.get(name)
	if !ok {
		return &KeyError{Op: "describe", Name: name, Err: ErrNotFound}
	}
	if old.Description == description {
		return nil
	}
	ne := *old
	ne.Description = description
	ne.Updated = t.now
	t.doc.put(name, &ne)
	t.changed = true
	return nil
}

func (t *docTx) Delete(name string) error {
	if err := ValidateExistingName(name); err != nil {
		return &KeyError{Op: "delete", Name: name, Err: err}
	}
	if !t.doc.exists(name) {
		return &KeyError{Op: "delete", Name: name, Err: ErrNotFound}
	}
	t.doc.put(name, nil)
	t.changed = true
	return nil
}

func (t *docTx) List() ([]Entry, error) { return t.doc.list(), nil }
