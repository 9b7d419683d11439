package store

import (
	"encoding/base64"
	"fmt"
	"slices"
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
// of substrings of the plaintext until something needs the map (a write,
// a clone). A first Get is then a binary search, and reading a store costs
// little more than decrypting it. Use get, all and list, never the fields.
type document struct {
	Version    int
	Recipients []string

	once    sync.Once
	lazy    bool                 // decoded: sorted is the source and immutable
	sorted  []rawEntry           // sorted by name, when lazy
	entries map[string]*docEntry // built on demand when lazy; see all
}

// rawEntry is an entry as decoded: substrings of the plaintext, with the
// timestamps still in text. It is kept small: a lazy document holds one per
// entry.
type rawEntry struct {
	name, value, encoding, description string
	created, updated                   string
}

func (r *rawEntry) entry() *docEntry {
	return &docEntry{Value: r.value, Encoding: r.encoding, Description: r.description}
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

// DocumentError reports a plaintext that decrypted but is not a valid store
// document. It never quotes the plaintext.
type DocumentError struct{ Reason string }

func (e *DocumentError) Error() string { return "store: malformed document: " + e.Reason }

// decodeDocument parses and validates a plaintext document. Any defect
// rejects the whole document.
func decodeDocument(b []byte) (*document, error) {
	if len(b) > MaxStoreSize {
		return nil, fmt.Errorf("%w: document is %d bytes, the limit is %d", ErrLimit, len(b), MaxStoreSize)
	}
	d, err := parseDocument(b)
	if err != nil {
		return nil, err
	}
	switch {
	case d.Version < 1:
		return nil, &DocumentError{Reason: "missing or invalid format version"}
	case d.Version > FormatVersion:
		return nil, &DocumentError{Reason: fmt.Sprintf("format version %d is newer than this hush understands (%d); upgrade hush", d.Version, FormatVersion)}
	}
	// hush writes entries sorted; a document edited by hand may not be.
	if !slices.IsSortedFunc(d.sorted, cmpRaw) {
		slices.SortStableFunc(d.sorted, cmpRaw)
	}
	for i := range d.sorted {
		r := &d.sorted[i]
		if err := ValidateName(r.name); err != nil {
			return nil, &DocumentError{Reason: "invalid entry name " + quoteName(r.name)}
		}
		if i > 0 && d.sorted[i-1].name == r.name {
			return nil, &DocumentError{Reason: "duplicate entry " + quoteName(r.name)}
		}
		switch r.encoding {
		case "":
		case encodingBase64:
			if !validBase64(r.value) {
				return nil, &DocumentError{Reason: "bad base64 value for " + quoteName(r.name)}
			}
		default:
			return nil, &DocumentError{Reason: "unknown value encoding for " + quoteName(r.name)}
		}
		for _, ts := range []*string{&r.created, &r.updated} {
			if *ts == "" || validStamp(*ts) {
				continue
			}
			t, err := time.Parse(time.RFC3339Nano, *ts)
			if err != nil {
				return nil, &DocumentError{Reason: "bad timestamp for " + quoteName(r.name)}
			}
			*ts = t.UTC().Format(time.RFC3339Nano)
			if !validStamp(*ts) { // 9999-12-31T23:30:00-01:00 is in year 10000 in UTC
				return nil, &DocumentError{Reason: "timestamp out of range for " + quoteName(r.name)}
			}
		}
	}
	return d, nil
}

func cmpRaw(a, b rawEntry) int { return strings.Compare(a.name, b.name) }

// all returns the entries as a map, materialising a lazy document. The
// map must not be modified except in a clone.
func (d *document) all() map[string]*docEntry {
	d.once.Do(func() {
		m := make(map[string]*docEntry, len(d.sorted))
		for i := range d.sorted {
			r := &d.sorted[i]
			e := r.entry() // sorted stays immutable: concurrent readers use it
			e.Created, _ = parseStamp(r.created)
			e.Updated, _ = parseStamp(r.updated)
			m[r.name] = e
		}
		d.entries = m
	})
	return d.entries
}

// get returns the entry for name.
func (d *document) get(name string) (*docEntry, bool) {
	if d.lazy {
		i, ok := slices.BinarySearchFunc(d.sorted, name, func(r rawEntry, n string) int { return strings.Compare(r.name, n) })
		if !ok {
			return nil, false
		}
		return d.sorted[i].entry(), true
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
			c, _ := parseStamp(r.created)
			u, _ := parseStamp(r.updated)
			es[i] = Entry{Name: r.name, Description: r.description, Created: c, Updated: u}
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
