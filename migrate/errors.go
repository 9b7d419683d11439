package migrate

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Test for them with errors.Is; the messages are for people
// and may change.
var (
	// ErrVerify means a value written to its new key did not read back
	// equal to the value read from the old key. The old key is kept.
	ErrVerify = errors.New("new key did not read back with the value written")
	// ErrClash means an import met an existing secret with a different
	// value and neither ImportOverwrite nor ImportSkipExisting was chosen.
	ErrClash = errors.New("a secret with this name already exists with a different value")
	// ErrSkipped means an exporter left out secrets its format cannot
	// represent. Everything else was written.
	ErrSkipped = errors.New("secrets left out of the export")
	// ErrInvalidRule means a migration rule or name is malformed.
	ErrInvalidRule = errors.New("invalid migration rule")
)

// Steps of a key move, as named in a StepError.
const (
	StepPlan   = "plan"   // choosing the moves; nothing was written
	StepCopy   = "copy"   // reading the old key and writing the new one
	StepVerify = "verify" // reading the new key back and comparing
	StepDelete = "delete" // deleting the old key
	StepRecord = "record" // recording the migration as complete
)

// StepError records which key and which step of a migration failed. Key is
// the old (bare) name; Step is one of the Step constants. It never holds a
// secret value.
type StepError struct {
	Key  string
	Step string
	Err  error
}

func (e *StepError) Error() string {
	if e.Key == "" {
		return "migrate: " + e.Step + ": " + e.Err.Error()
	}
	return "migrate: " + e.Step + " " + quote(e.Key) + ": " + e.Err.Error()
}

func (e *StepError) Unwrap() error { return e.Err }

// ParseError reports malformed input to an importer. Line is 1-based, or 0
// when the error has no line (a ToolHive name, for example). Reason never
// contains a secret value.
type ParseError struct {
	Format string // "dotenv", "json" or "toolhive"
	Line   int
	Reason string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return "migrate: " + e.Format + ": line " + strconv.Itoa(e.Line) + ": " + e.Reason
	}
	return "migrate: " + e.Format + ": " + e.Reason
}

// ClashError lists the names an import refused to replace. It wraps
// ErrClash.
type ClashError struct {
	Names []string
}

func (e *ClashError) Error() string {
	return "migrate: import: " + strconv.Itoa(len(e.Names)) + " secret(s) already exist with different values: " + quoteList(e.Names)
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
	b.WriteString("migrate: " + e.Format + " export: left out " + strconv.Itoa(len(e.Skipped)) + " secret(s): ")
	for i, s := range e.Skipped {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(s.Name) + " (" + s.Reason + ")")
	}
	return b.String()
}

func (e *SkipError) Unwrap() error { return ErrSkipped }

// quote renders a name for an error message, escaping bytes that would
// garble a terminal. Names are not secret.
func quote(name string) string {
	if name == "" {
		return `""`
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x21 || c == 0x7f || c == '"' || c == '\\' || c >= 0x80 {
			return strconv.Quote(name)
		}
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
