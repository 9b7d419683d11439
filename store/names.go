package store

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Limits of the file provider. Names and values past them are refused with
// an error wrapping ErrInvalidName or ErrLimit, and nothing is written.
const (
	MaxNameLen   = 255
	MaxValueLen  = 4 << 20
	MaxStoreSize = 256 << 20
)

// ValidateName reports whether name is a valid secret name: 1 to 255 bytes
// of valid UTF-8 with no control characters and no whitespace. The error
// wraps ErrInvalidName (or ErrLimit for a name that is too long).
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrInvalidName)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: %w: name is %d bytes, the limit is %d", ErrInvalidName, ErrLimit, len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: name is not valid UTF-8", ErrInvalidName)
	}
	ascii := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f {
			ascii = false
			break
		}
	}
	if ascii {
		return nil
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			return fmt.Errorf("%w: name contains whitespace or a control character (%U)", ErrInvalidName, r)
		}
	}
	return nil
}

// validateValue checks a value against MaxValueLen.
func validateValue(v []byte) error {
	if len(v) > MaxValueLen {
		return fmt.Errorf("%w: value is %d bytes, the limit is %d", ErrLimit, len(v), MaxValueLen)
	}
	return nil
}
