package store

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
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
type document struct {
	Version    int                  `json:"version"`
	Recipients []string             `json:"recipients"`
	Entries    map[string]*docEntry `json:"entries"`
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
	return &document{Version: FormatVersion, Recipients: recipients, Entries: map[string]*docEntry{}}
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
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("store: encoding document: %w", err)
	}
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
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d document
	if err := dec.Decode(&d); err != nil {
		return nil, &DocumentError{Reason: "not a JSON store document"}
	}
	if dec.More() {
		return nil, &DocumentError{Reason: "trailing data after the document"}
	}
	switch {
	case d.Version < 1:
		return nil, &DocumentError{Reason: "missing or invalid format version"}
	case d.Version > FormatVersion:
		return nil, &DocumentError{Reason: fmt.Sprintf("format version %d is newer than this hush understands (%d); upgrade hush", d.Version, FormatVersion)}
	}
	if d.Entries == nil {
		d.Entries = map[string]*docEntry{}
	}
	for name, e := range d.Entries {
		if err := ValidateName(name); err != nil {
			return nil, &DocumentError{Reason: "invalid entry name " + quoteName(name)}
		}
		if e == nil {
			return nil, &DocumentError{Reason: "null entry " + quoteName(name)}
		}
		switch e.Encoding {
		case "":
		case encodingBase64:
			if _, err := base64.StdEncoding.DecodeString(e.Value); err != nil {
				return nil, &DocumentError{Reason: "bad base64 value for " + quoteName(name)}
			}
		default:
			return nil, &DocumentError{Reason: "unknown value encoding for " + quoteName(name)}
		}
	}
	return &d, nil
}

// clone returns a copy of d whose entry map may be changed without
// affecting d. Entries themselves are treated as immutable.
func (d *document) clone() *document {
	c := &document{Version: d.Version, Recipients: append([]string(nil), d.Recipients...), Entries: make(map[string]*docEntry, len(d.Entries))}
	for k, v := range d.Entries {
		c.Entries[k] = v
	}
	return c
}

func (d *document) list() []Entry {
	es := make([]Entry, 0, len(d.Entries))
	for name, e := range d.Entries {
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
	e, ok := t.doc.Entries[name]
	if !ok {
		return nil, &KeyError{Op: "get", Name: name, Err: ErrNotFound}
	}
	return e.bytes(), nil
}

func (t *docTx) Lookup(name string) (Entry, error) {
	e, ok := t.doc.Entries[name]
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
	if old, ok := t.doc.Entries[name]; ok {
		ne.Created, ne.Description = old.Created, old.Description
		if old.Value == v && old.Encoding == enc {
			return nil // unchanged: no write, keep the updated time
		}
	}
	t.doc.Entries[name] = ne
	t.changed = true
	return nil
}

func (t *docTx) SetDescription(name, description string) error {
	old, ok := t.doc.Entries[name]
	if !ok {
		return &KeyError{Op: "describe", Name: name, Err: ErrNotFound}
	}
	if old.Description == description {
		return nil
	}
	ne := *old
	ne.Description = description
	ne.Updated = t.now
	t.doc.Entries[name] = &ne
	t.changed = true
	return nil
}

func (t *docTx) Delete(name string) error {
	if _, ok := t.doc.Entries[name]; !ok {
		return &KeyError{Op: "delete", Name: name, Err: ErrNotFound}
	}
	delete(t.doc.Entries, name)
	t.changed = true
	return nil
}

func (t *docTx) List() ([]Entry, error) { return t.doc.list(), nil }
