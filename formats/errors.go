package formats

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Test for them with errors.Is; the messages are for people
// and may change.
var (
	// ErrClash means an import met an existing secret with a different
	// value and neither ImportOverwrite nor ImportSkipExisting was chosen.
	ErrClash = errors.New("a secret with this name already exists with a different value")
	// ErrSkipped means an exporter left out secrets its format cannot
	// represent. Everything else was written.
	ErrSkipped = errors.New("secrets left out of the export")
)

// ParseError reports malformed input to a reader. Line is 1-based, or 0
// when the error has no line (a ToolHive name, for example). Reason never
// contains a secret value.
type ParseError struct {
	Format string // "dotenv", "json" or "toolhive"
	Line   int
	Reason string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return "formats: " + e.Format + ": line " + strconv.Itoa(e.Line) + ": " + e.Reason
	}
	return "formats: " + e.Format + ": " + e.Reason
}

// ClashError lists the names an import refused to replace. It wraps
// ErrClash.
type ClashError struct {
	Names []string
}

func (e *ClashError) Error() string {
	return "formats: import: " + strconv.Itoa(len(e.Names)) + " secret(s) already exist with different values: " + quoteList(e.Names)
}

func (e *ClashError) Unwrap() error { return ErrClash }

// Skip is one secret an exporter left out and why.
type Skip struct {
	Name   string
	Reason string
}

// SkipError lists the secrets an exporter left out because its format
// cannot represent them (a name that is not a variable name, a NUL byte in
// a shell value, bytes that are not UTF-8 in JSON). Every other secret was
// written. It wraps ErrSkipped.
type SkipError struct {
	Format  string
	Skipped []Skip
}

func (e *SkipError) Error() string {
	var b strings.Builder
	b.WriteString("formats: " + e.Format + " export: left out " + strconv.Itoa(len(e.Skipped)) + " secret(s): ")
	for i, s := range e.Skipped {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(s.Name) + " (" + s.Reason + ")")
	}
	return b.String()
}

func (e *SkipError) Unwrap() error { return ErrSkipped }

// quote renders a name for an error message, in Go's quoted form when it
// is empty or holds a byte that would garble a terminal or confuse a
// reader (blanks, quotes, backslashes, controls, non-ASCII). Names are not
// secret.
func quote(name string) string {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r < 0x21 || r == 0x7f || r == '"' || r == '\\' || r >= 0x80 }) {
		return strconv.Quote(name)
	}
	return name
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}
