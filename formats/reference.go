package formats

import (
	"bytes"
	"fmt"
	"strings"
)

// ReferencePrefix starts a reference to a secret: hush://NAME names the
// secret NAME of the store (of the view the caller reads).
const ReferencePrefix = "hush://"

// Reference reports whether v is a reference as a whole, hush://NAME with
// a non-empty NAME, and returns NAME. Anything else (a value that merely
// contains hush://, or has blanks around it) is not a reference. Whether
// NAME is a valid name is left to the store that is asked for it.
func Reference(v string) (name string, ok bool) {
	name, ok = strings.CutPrefix(v, ReferencePrefix)
	return name, ok && name != ""
}

// TemplateError reports a template that cannot be rendered: a malformed
// placeholder, or one whose secret the lookup could not give. Line is
// 1-based. It wraps the lookup's error; it never holds a value.
type TemplateError struct {
	Line   int
	Name   string // the placeholder's secret; empty for a malformed one
	Reason string // for a malformed placeholder
	Err    error  // the lookup's error
}

func (e *TemplateError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

func (e *TemplateError) Unwrap() error { return e.Err }

// Render returns tmpl with every placeholder replaced by the value lookup
// returns for its name, as 1Password's op inject does. A placeholder is
// "{{", any spaces or tabs, hush://NAME, any spaces or tabs, "}}", on one
// line; NAME runs to the first space, tab or "}". Values are inserted as
// they are, unescaped. Text that does not start a placeholder, "{{ .X }}"
// of other template languages included, is copied unchanged; "{{" followed
// by hush:// that does not end as a placeholder is an error. On any error
// (a *TemplateError for the first bad or missing placeholder) Render
// returns no output: the caller writes nothing.
func Render(tmpl []byte, lookup func(name string) ([]byte, error)) ([]byte, error) {
	var out bytes.Buffer
	rest := tmpl
	line := 1
	fail := func(err error) ([]byte, error) {
		clear(out.Bytes())
		return nil, err
	}
	for {
		i := bytes.Index(rest, []byte("{{"))
		if i < 0 {
			out.Write(rest)
			return out.Bytes(), nil
		}
		out.Write(rest[:i])
		line += bytes.Count(rest[:i], []byte("\n"))
		name, n, ok := placeholder(rest[i:])
		if n == 0 { // "{{{ hush://A }}" holds a placeholder one byte on
			out.WriteByte('{')
			rest = rest[i+1:]
			continue
		}
		if !ok {
			return fail(&TemplateError{Line: line, Reason: "a {{ hush://NAME }} placeholder is not closed on its line, or has no name"})
		}
		v, err := lookup(name)
		if err != nil {
			return fail(&TemplateError{Line: line, Name: name, Err: err})
		}
		out.Write(v)
		clear(v)
		rest = rest[i+n:]
	}
}

// placeholder parses the placeholder at the start of b, which starts with
// "{{". n is 0 if b does not start a placeholder at all ("{{" not followed
// by blanks and hush://); otherwise ok says whether it is well formed and
// n is its length.
func placeholder(b []byte) (name string, n int, ok bool) {
	j := 2
	for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
		j++
	}
	if !bytes.HasPrefix(b[j:], []byte(ReferencePrefix)) {
		return "", 0, false
	}
	j += len(ReferencePrefix)
	start := j
	for j < len(b) && b[j] != ' ' && b[j] != '\t' && b[j] != '}' && b[j] != '\n' && b[j] != '\r' && b[j] != '{' {
		j++
	}
	name = string(b[start:j])
	for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
		j++
	}
	if name == "" || !bytes.HasPrefix(b[j:], []byte("}}")) {
		return "", j, false
	}
	return name, j + 2, true
}
