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
	// ErrClash means a move's new key already held a value other than its
	// old key's. Apply touched neither key, so both values are still there,
	// and did not record the migration complete: a person keeps one (or
	// renames one) and applies the migration again.
	ErrClash = errors.New("the new key exists with a different value; both keys are kept")
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

// quote renders a name or rule for an error message, in Go's quoted form
// when it is empty or holds a byte that would garble a terminal or confuse
// a reader (blanks, quotes, backslashes, controls, non-ASCII). Names are
// not secret.
func quote(name string) string {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r < 0x21 || r == 0x7f || r == '"' || r == '\\' || r >= 0x80 }) {
		return strconv.Quote(name)
	}
	return name
}
