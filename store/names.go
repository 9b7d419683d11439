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

// ValidateName reports whether name is a valid name for a new secret: 1
// to 255 bytes of valid UTF-8 with no control characters, no whitespace
// and no Unicode format characters (category Cf: bidi controls, zero-width
// characters), so that a name looks like what it is. The error wraps
// ErrInvalidName (and ErrLimit for a name that is too long). Set and every
// write of a new name check it.
func ValidateName(name string) error {
	if err := ValidateExistingName(name); err != nil {
		return err
	}
	if plainName(name) {
		return nil
	}
	for _, r := range name {
		if unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("%w: name contains an invisible format character (%U)", ErrInvalidName, r)
		}
	}
	return nil
}

// ValidateExistingName reports whether name can name a secret a store
// holds: ValidateName's rule as it was before format characters were
// refused, which is the rule the store's decoder applies, so that stores
// written before still open and their secrets can still be read, renamed
// and deleted. Get, Lookup and Delete check it; an empty name, for one,
// is an error wrapping ErrInvalidName, never ErrNotFound.
func ValidateExistingName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrInvalidName)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: %w: name is %d bytes, the limit is %d", ErrInvalidName, ErrLimit, len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: name is not valid UTF-8", ErrInvalidName)
	}
	if plainName(name) {
		return nil
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			return fmt.Errorf("%w: name contains whitespace or a control character (%U)", ErrInvalidName, r)
		}
	}
	return nil
}

// plainName reports whether name is printable ASCII other than space.
func plainName(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// validateValue checks a value against MaxValueLen.
func validateValue(v []byte) error {
	if len(v) > MaxValueLen {
		return fmt.Errorf("%w: value is %d bytes, the limit is %d", ErrLimit, len(v), MaxValueLen)
	}
	return nil
}
