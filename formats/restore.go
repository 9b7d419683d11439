package formats

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hush-secrets/hush/store"
)

// ErrNotEmpty means [Restore] was given a store that already holds
// entries: a restore rebuilds a store, it never merges into one.
var ErrNotEmpty = errors.New("the store is not empty")

// StoreDocument is the plaintext of a hush store, as `age -d` prints it.
type StoreDocument struct {
	Version    int
	Recipients []string     // as listed in the document; Restore does not use them
	Entries    []StoreEntry // sorted by name
}

// StoreEntry is one entry of a [StoreDocument]: the name as stored
// (reserved keys __hush_<scope>_<name> included), the value's exact bytes
// and the metadata.
type StoreEntry struct {
	Name             string
	Value            []byte
	Description      string
	Created, Updated time.Time // UTC; zero when the document has none
}

// ParseStoreDocument reads the plaintext document of a hush store:
//
//	{"version":1,"recipients":["age1..."],"entries":{"NAME":{"value":"...",
//	 "encoding":"base64","description":"...","created":"...","updated":"..."}}}
//
// It is as strict as the store's own reader: unknown or repeated fields
// (matched exactly, not ignoring case), a name given twice or not valid in
// a store (store.ValidateName), an entry without a value, an encoding
// other than "base64", bad base64, a timestamp that is not RFC 3339, a
// value over store.MaxValueLen, a format version this hush does not know,
// input that is not valid UTF-8 and anything after the document are all
// errors. Errors are *ParseError values with a line number and never hold
// a value; input over store.MaxStoreSize gives an error wrapping
// store.ErrLimit.
func ParseStoreDocument(r io.Reader) (*StoreDocument, error) {
	data, err := readAllLimited(r)
	if err != nil {
		return nil, err
	}
	p := &docParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	if !utf8.Valid(data) {
		return nil, p.fail(int64(invalidUTF8At(data)), "input is not valid UTF-8")
	}
	doc, err := p.document()
	if err != nil {
		for _, e := range doc.Entries {
			clear(e.Value)
		}
		return nil, err
	}
	return doc, nil
}

// Restore writes every entry of doc into p as one all-or-nothing change,
// with its name, exact value, description and times. p must be the raw
// store (a scope view would refuse or rename the reserved keys) of a kind
// [store.SetTimes] works on: the file and memory stores.
//
// It refuses, writing nothing, a store that holds any entry (an error
// wrapping ErrNotEmpty, checked under the same lock as the write), and
// returns the errors of store.Update, store.SetTimes and p otherwise.
func Restore(ctx context.Context, p store.Provider, doc *StoreDocument) error {
	return store.Update(ctx, p, func(tx store.Tx) error {
		cur, err := tx.List()
		if err != nil {
			return err
		}
		if len(cur) > 0 {
			return fmt.Errorf("%w: it holds %d secret(s)", ErrNotEmpty, len(cur))
		}
		for _, e := range doc.Entries {
			if err := tx.Set(e.Name, e.Value); err != nil {
				return err
			}
			if e.Description != "" {
				if err := tx.SetDescription(e.Name, e.Description); err != nil {
					return err
				}
			}
			if err := store.SetTimes(tx, e.Name, e.Created, e.Updated); err != nil {
				return err
			}
		}
		return nil
	})
}

// docParser walks the document token by token with encoding/json, so that
// field names are matched exactly and repeats are seen.
type docParser struct {
	data []byte
	dec  *json.Decoder
}

const docFormat = "hush document"

func (p *docParser) fail(off int64, format string, args ...any) error {
	if off > int64(len(p.data)) {
		off = int64(len(p.data))
	}
	line := 1 + bytes.Count(p.data[:off], []byte{'\n'})
	return &ParseError{Format: docFormat, Line: line, Reason: fmt.Sprintf(format, args...)}
}

// token returns the next token; a syntax error never quotes the input.
func (p *docParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err == nil {
		return tok, nil
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return nil, p.fail(se.Offset, "malformed JSON")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, p.fail(int64(len(p.data)), "unexpected end of input")
	}
	return nil, p.fail(p.dec.InputOffset(), "malformed JSON")
}

func (p *docParser) delim(want json.Delim, what string) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return p.fail(p.dec.InputOffset(), "%s must be %s", what, map[json.Delim]string{'{': "an object", '[': "an array"}[want])
	}
	return nil
}

// object calls field for each key of the object that comes next, after
// checking that no key repeats. null is an empty object when nullOK.
func (p *docParser) object(what string, nullOK bool, field func(key string) error) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok == nil && nullOK {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return p.fail(p.dec.InputOffset(), "%s must be an object", what)
	}
	seen := map[string]bool{}
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return err
		}
		key := tok.(string) // object keys are always strings
		if seen[key] {
			return p.fail(p.dec.InputOffset(), "%s: %s given twice", what, quote(key))
		}
		seen[key] = true
		if err := field(key); err != nil {
			return err
		}
	}
	return p.delim('}', what)
}

// str reads a string value; what names it in errors.
func (p *docParser) str(what string) (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", p.fail(p.dec.InputOffset(), "%s must be a string", what)
	}
	return s, nil
}

func (p *docParser) document() (*StoreDocument, error) {
	doc := &StoreDocument{}
	hasVersion := false
	err := p.object("the document", false, func(key string) error {
		switch key {
		case "version":
			tok, err := p.token()
			if err != nil {
				return err
			}
			n, ok := tok.(json.Number)
			v, verr := strconv.Atoi(string(n))
			if !ok || verr != nil {
				return p.fail(p.dec.InputOffset(), "version must be a whole number")
			}
			doc.Version, hasVersion = v, true
			return nil
		case "recipients":
			return p.recipients(doc)
		case "store_key", "rotations":
			// The store's integrity key and its rotation proofs: a
			// restored store is a new store and makes its own key, so
			// they are checked for shape and left out.
			return p.integrity(key)
		case "entries":
			return p.object("entries", true, func(name string) error {
				e, err := p.entry(name)
				if err != nil {
					return err
				}
				doc.Entries = append(doc.Entries, e)
				return nil
			})
		}
		return p.fail(p.dec.InputOffset(), "unknown field %s", quote(key))
	})
	if err != nil {
		return doc, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return doc, p.fail(p.dec.InputOffset(), "data after the document")
	}
	switch {
	case !hasVersion || doc.Version < 1:
		return doc, p.fail(0, "missing or invalid format version")
	case doc.Version > store.FormatVersion:
		return doc, p.fail(0, "format version %d is newer than this hush understands (%d); upgrade hush", doc.Version, store.FormatVersion)
	}
	slices.SortFunc(doc.Entries, func(a, b StoreEntry) int { return strings.Compare(a.Name, b.Name) })
	return doc, nil
}

func (p *docParser) recipients(doc *StoreDocument) error {
	tok, err := p.token()
	if err != nil || tok == nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return p.fail(p.dec.InputOffset(), "recipients must be an array")
	}
	for p.dec.More() {
		r, err := p.str("a recipient")
		if err != nil {
			return err
		}
		doc.Recipients = append(doc.Recipients, r)
	}
	return p.delim(']', "recipients")
}

// integrity reads the store_key string or the rotations array of
// strings, which a restore does not carry over.
func (p *docParser) integrity(key string) error {
	if key == "store_key" {
		_, err := p.str("the store key")
		return err
	}
	tok, err := p.token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return p.fail(p.dec.InputOffset(), "rotations must be an array")
	}
	for p.dec.More() {
		if _, err := p.str("a rotation proof"); err != nil {
			return err
		}
	}
	return p.delim(']', "rotations")
}

// entry reads the object of the entry name and checks it as the store
// would.
func (p *docParser) entry(name string) (StoreEntry, error) {
	e := StoreEntry{Name: name}
	if err := store.ValidateName(name); err != nil {
		return e, p.fail(p.dec.InputOffset(), "invalid entry name %s", quote(name))
	}
	what := "entry " + quote(name)
	var value, encoding, created, updated string
	hasValue := false
	err := p.object(what, false, func(key string) error {
		var err error
		switch key {
		case "value":
			value, err = p.str(what + ": value")
			hasValue = true
		case "encoding":
			encoding, err = p.str(what + ": encoding")
		case "description":
			e.Description, err = p.str(what + ": description")
		case "created":
			created, err = p.str(what + ": created")
		case "updated":
			updated, err = p.str(what + ": updated")
		default:
			err = p.fail(p.dec.InputOffset(), "%s: unknown field %s", what, quote(key))
		}
		return err
	})
	if err != nil {
		return e, err
	}
	at := p.dec.InputOffset()
	if !hasValue {
		return e, p.fail(at, "%s has no value", what)
	}
	switch encoding {
	case "":
		e.Value = []byte(value)
	case "base64":
		if e.Value, err = base64.StdEncoding.DecodeString(value); err != nil {
			return e, p.fail(at, "%s: bad base64 value", what)
		}
	default:
		return e, p.fail(at, "%s: unknown value encoding %s", what, quote(encoding))
	}
	if n := len(e.Value); n > store.MaxValueLen {
		clear(e.Value)
		return StoreEntry{}, fmt.Errorf("%w: %w", p.fail(at, "%s: value is %d bytes, the limit is %d", what, n, store.MaxValueLen), store.ErrLimit)
	}
	for _, ts := range []struct {
		s   string
		dst *time.Time
	}{{created, &e.Created}, {updated, &e.Updated}} {
		if ts.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, ts.s)
		if err != nil {
			clear(e.Value)
			return StoreEntry{}, p.fail(at, "%s: bad timestamp", what)
		}
		*ts.dst = t.UTC()
	}
	return e, nil
}

// invalidUTF8At returns the offset of the first byte of data that is not
// part of valid UTF-8.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}
