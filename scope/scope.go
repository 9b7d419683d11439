package scope

import (
	"errors"
	"fmt"
	"strings"
)

// Prefix begins every reserved key. A scoped key is stored as
// Prefix + scope + "_" + name; see [Key].
const Prefix = "__hush_"

// MaxScopeLen is the longest scope name [ValidateScope] accepts.
const MaxScopeLen = 32

// Sentinel errors. Test for them with errors.Is; the messages are for
// people and may change.
var (
	// ErrReserved means a user view was asked to touch a name that starts
	// with [Prefix]. Such errors are *store.KeyError values naming the
	// operation and the name.
	ErrReserved = errors.New("reserved name")
	// ErrInvalidScope means a scope name is not 1 to 32 characters of
	// a-z and 0-9.
	ErrInvalidScope = errors.New("invalid scope name")
)

// ValidateScope reports whether s is a valid scope name: 1 to 32 bytes,
// each a lowercase ASCII letter or a digit. Underscores are excluded so
// that a stored key splits unambiguously. The error wraps ErrInvalidScope.
func ValidateScope(s string) error {
	if s == "" || len(s) > MaxScopeLen {
		return fmt.Errorf("scope: %w %q: want 1 to %d characters, got %d bytes", ErrInvalidScope, s, MaxScopeLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return fmt.Errorf("scope: %w %q: only a-z and 0-9 are allowed", ErrInvalidScope, s)
		}
	}
	return nil
}

// Key returns the stored key of name in scope: "__hush_<scope>_<name>".
// It does not validate its arguments; [Scoped] does.
func Key(scope, name string) string {
	return Prefix + scope + "_" + name
}

// IsReserved reports whether key is in the reserved namespace, that is,
// whether it starts with [Prefix]. A name that merely contains Prefix
// later on is an ordinary name.
func IsReserved(key string) bool {
	return strings.HasPrefix(key, Prefix)
}

// Split parses a stored reserved key into its scope and name. It reports
// ok only when key is Key(scope, name) for a valid scope and a non-empty
// name, that is, when the key is reachable through Scoped(p, scope).
func Split(key string) (scope, name string, ok bool) {
	rest, ok := strings.CutPrefix(key, Prefix)
	if !ok {
		return "", "", false
	}
	scope, name, ok = strings.Cut(rest, "_")
	if !ok || name == "" || ValidateScope(scope) != nil {
		return "", "", false
	}
	return scope, name, true
}
