package store

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// FormatVersion is the version of the plaintext document this package
// writes. Documents of this and every earlier version can be read.
const FormatVersion = 1

// document is the plaintext of a store: a versioned JSON object holding the
// recipient list and the entries.
//
//	{"version":1,"recipients":["age1..."],"entries":{"NAME":{...}}}
//
// A document decoded from a file is lazy: its entries stay a sorted slice
// of spans of the plaintext until something needs the map (a write, a
// clone). A first Get is then a binary search, and reading a store costs
// little more than decrypting it. Use get, all and list, never the fields.
type document struct {
	Version    int
	Recipients []string

	once    sync.Once
	lazy    bool                 // decoded: sorted is the source and immutable
	sorted  []rawEntry           // sorted by name, when lazy
	plain   string               // the plaintext the spans point into
	extra   string               // strings that are not in the plaintext as they are (escaped, or rewritten)
	entries map[string]*docEntry // built on demand when lazy; see all
}

// span locates a decoded string: bytes [off, off+n) of the plaintext, or
// of the document's extra strings when off has inExtra set. Spans hold no
// pointers, so the garbage collector never scans a decoded document's
// entries, however many there are.
type span struct{ off, n uint32 }

const inExtra = 1 << 31 // MaxStoreSize is far below

// str returns the string x locates.
func (d *document) str(x span) string {
	if x.off&inExtra != 0 {
		o := x.off &^ inExtra
		return d.extra[o : o+x.n]
	}
	return d.plain[x.off : x.off+x.n]
}

// rawEntry is an entry as decoded, with the timestamps still in text. It is
// kept small: a lazy document holds one per entry.
type rawEntry struct {
	name, value, encoding, description span
	created, updated                   span
}

func (d *document) entry(r *rawEntry) *docEntry {
	return &docEntry{Value: d.str(r.value), Encoding: d.str(r.encoding), Description: d.str(r.description)}
}

// docEntry is one secret. Value holds the bytes as a JSON string when they
// are valid UTF-8; otherwise Encoding is "base64" and Value is their
// standard base64 encoding.
type docEntry struct {
	Value       string    `json:"value"`
	Encoding    string    `json:"encoding,omitempty"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

const encodingBase64 = "base64"

func newDocument(recipients []string) *document {
	d := &document{Version: FormatVersion, Recipients: recipients, entries: map[string]*docEntry{}}
	d.once.Do(func() {})
	return d
}

func encodeValue(v []byte) (value, encoding string) {
	if utf8.Valid(v) {
		return string(v), ""
	}
	return base64.StdEncoding.EncodeToString(v), encodingBase64
}

func (e *docEntry) bytes() []byte {
	if e.Encoding == encodingBase64 {
		b, _ := base64.StdEncoding.DecodeString(e.Value) // checked by decodeDocument
		return b
	}
	return []byte(e.Value)
}

func (e *docEntry) size() int { return len(e.Value) }

// marshal encodes the document. The output is deterministic: entries are
// sorted by name.
func (d *document) marshal() ([]byte, error) {
	b := encodeDocument(d)
	if len(b) > MaxStoreSize {
		return nil, fmt.Errorf("%w: store would be %d bytes, the limit is %d", ErrLimit, len(b), MaxStoreSize)
	}
	return b, nil
}

// all returns the entries as a map, materialising a lazy document. The
// map must not be modified except in a clone.
func (d *document) all() map[string]*docEntry {
	d.once.Do(func() {
		m := make(map[string]*docEntry, len(d.sorted))
		for i := range d.sorted {
			r := &d.sorted[i]
			e := d.entry(r) // sorted stays immutable: concurrent readers use it
			e.Created, _ = parseStamp(d.str(r.created))
			e.Updated, _ = parseStamp(d.str(r.updated))
			m[d.str(r.name)] = e
		}
		d.entries = m
	})
	return d.entries
}

// get returns the entry for name.
func (d *document) get(name string) (*docEntry, bool) {
	if d.lazy {
		i, ok := sort.Find(len(d.sorted), func(i int) int { return strings.Compare(name, d.str(d.sorted[i].name)) })
		if !ok {
			return nil, false
		}
		return d.entry(&d.sorted[i]), true
	}
	e, ok := d.all()[name]
	return e, ok
}

func (d *document) len() int {
	if d.lazy {
		return len(d.sorted)
	}
	return len(d.all())
}

// clone returns a materialised copy of d whose entry map may be changed
// without affecting d. Entries themselves are treated as immutable.
func (d *document) clone() *document {
	src := d.all()
	c := &document{Version: d.Version, Recipients: append([]string(nil), d.Recipients...), entries: make(map[string]*docEntry, len(src))}
	c.once.Do(func() {})
	for k, v := range src {
		c.entries[k] = v
	}
	return c
}

func (d *document) list() []Entry {
	if d.lazy {
		es := make([]Entry, len(d.sorted))
		for i := range d.sorted {
			r := &d.sorted[i]
			c, _ := parseStamp(d.str(r.created))
			u, _ := parseStamp(d.str(r.updated))
			es[i] = Entry{Name: d.str(r.name), Description: d.str(r.description), Created: c, Updated: u}
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
	e, ok := t.doc.entries[name]
	if !ok {
		return nil, &KeyError{Op: "get", Name: name, Err: ErrNotFound}
	}
	return e.bytes(), nil
}

func (t *docTx) Lookup(name string) (Entry, error) {
	e, ok := t.doc.entries[name]
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
	v, enc := encodeValue(value)
	ne := &docEntry{Value: v, Encoding: enc, Created: t.now, Updated: t.now}
	if old, ok := t.doc.entries[name]; ok {
		ne.Created, ne.Description = old.Created, old.Description
		if old.Value == v && old.Encoding == enc {
			return nil // unchanged: no write, keep the updated time
		}
	}
	t.doc.entries[name] = ne
	t.changed = true
	return nil
}

func (t *docTx) SetDescription(name, description string) error {
	old, ok := t.doc.entries[name]
	if !ok {
		return &KeyError{Op: "describe", Name: name, Err: ErrNotFound}
	}
	if old.Description == description {
		return nil
	}
	ne := *old
	ne.Description = description
	ne.Updated = t.now
	t.doc.entries[name] = &ne
	t.changed = true
	return nil
}

func (t *docTx) Delete(name string) error {
	if _, ok := t.doc.entries[name]; !ok {
		return &KeyError{Op: "delete", Name: name, Err: ErrNotFound}
	}
	delete(t.doc.entries, name)
	t.changed = true
	return nil
}

func (t *docTx) List() ([]Entry, error) { return t.doc.list(), nil }
