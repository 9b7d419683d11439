package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/hush-secrets/hush/store"
)

// ParseJSON reads one flat JSON object whose values are all strings:
//
//	{"API_TOKEN": "s3cret", "DB_URL": "postgres://..."}
//
// A value that is a number, boolean, null, array or object, a name given
// twice or not valid in a store (store.ValidateName), input that is not
// valid UTF-8, and anything after the object are errors. Errors are
// *ParseError values with a line number; they never contain a value (the
// decoder's own messages, which may quote a character of the input, are
// not passed on).
func ParseJSON(r io.Reader) ([]Secret, error) {
	data, err := readAllLimited(r)
	if err != nil {
		return nil, err
	}
	return parseFlatJSON("json", data)
}

func parseFlatJSON(format string, data []byte) ([]Secret, error) {
	lineAt := func(off int64) int {
		if off > int64(len(data)) {
			off = int64(len(data))
		}
		return 1 + bytes.Count(data[:off], []byte{'\n'})
	}
	fail := func(off int64, format_ string, args ...any) error {
		return &ParseError{Format: format, Line: lineAt(off), Reason: fmt.Sprintf(format_, args...)}
	}
	if !utf8.Valid(data) {
		var off int64
		for i := 0; i < len(data); {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				off = int64(i)
				break
			}
			i += n
		}
		return nil, fail(off, "input is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fail(se.Offset, "malformed JSON")
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fail(int64(len(data)), "unexpected end of input")
		}
		return fail(dec.InputOffset(), "malformed JSON")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fail(dec.InputOffset(), "want a JSON object of names to string values")
	}
	var out []Secret
	seen := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		name := tok.(string) // object keys are always strings
		line := lineAt(dec.InputOffset())
		if err := store.ValidateName(name); err != nil {
			return nil, fail(dec.InputOffset(), "name %s: %v", quote(name), err)
		}
		if first, dup := seen[name]; dup {
			return nil, fail(dec.InputOffset(), "name %s given twice (first on line %d)", quote(name), first)
		}
		seen[name] = line
		tok, err = dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		var kind string
		switch v := tok.(type) {
		case string:
			out = append(out, Secret{Name: name, Value: []byte(v)})
			continue
		case json.Delim:
			kind = map[json.Delim]string{'{': "an object", '[': "an array"}[v]
		case bool:
			kind = "a boolean"
		case float64, json.Number:
			kind = "a number"
		case nil:
			kind = "null"
		}
		return nil, fail(dec.InputOffset(), "value of %s is %s; only string values are supported (nested objects are not)", quote(name), kind)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(dec.InputOffset(), "unexpected data after the JSON object")
	}
	return out, nil
}

// WriteJSON writes secrets as one flat JSON object of string values, in the
// order given, which [ParseJSON] reads back exactly. JSON strings hold
// text only: a value that is not valid UTF-8 is left out, the others are
// written, and a *SkipError lists what was left out. The same name given
// twice is an error, and nothing is written.
func WriteJSON(w io.Writer, secrets []Secret) error {
	if err := checkDuplicates("export", secrets); err != nil {
		return err
	}
	var b bytes.Buffer
	skip := &SkipError{Format: "json"}
	b.WriteString("{")
	n := 0
	for _, s := range secrets {
		if !utf8.ValidString(s.Name) || !utf8.Valid(s.Value) {
			skip.Skipped = append(skip.Skipped, Skip{s.Name, "not valid UTF-8"})
			continue
		}
		if n > 0 {
			b.WriteString(",")
		}
		n++
		b.WriteString("\n  ")
		writeJSONString(&b, []byte(s.Name))
		b.WriteString(": ")
		writeJSONString(&b, s.Value)
	}
	if n > 0 {
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return finishExport(w, &b, skip)
}

// writeJSONString writes valid UTF-8 text as a JSON string without the
// HTML escaping encoding/json applies by default.
func writeJSONString(b *bytes.Buffer, s []byte) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(string(s)) // a string always encodes; writes to a Buffer never fail
	b.Truncate(b.Len() - 1)   // Encode adds a newline
}
