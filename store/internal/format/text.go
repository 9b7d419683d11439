package format

import (
	"bytes"
	"encoding/binary"
	"unicode"
	"unicode/utf8"
)

// ValidName reports whether name may name an entry: 1 to [MaxNameLen]
// bytes of valid UTF-8 with no control character and no whitespace (as
// package unicode defines them). It is the rule of
// store.ValidateExistingName, the read side: store.ValidateName, for new
// names, also refuses Unicode format characters, but a document written
// before that rule may hold them, and still decodes.
func ValidName(name []byte) bool {
	if plainName(name) {
		return true
	}
	if len(name) == 0 || len(name) > MaxNameLen || !utf8.Valid(name) {
		return false
	}
	for len(name) > 0 {
		r, n := utf8.DecodeRune(name)
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			return false
		}
		name = name[n:]
	}
	return true
}

const (
	lsb = 0x0101010101010101 // the low bit of each byte of a word
	msb = 0x8080808080808080 // the high bit of each byte
)

// plainName reports whether name is 1 to MaxNameLen printable ASCII
// characters other than space: the common case of a valid name, checked
// eight bytes at a time.
func plainName(name []byte) bool {
	if len(name) == 0 || len(name) > MaxNameLen {
		return false
	}
	var bad uint64
	i := 0
	for ; i+8 <= len(name); i += 8 {
		w := binary.LittleEndian.Uint64(name[i:])
		// Some byte's high bit is set if a byte of w is below 0x21
		// (first term) or above 0x7e (the others).
		bad |= ((w - 0x21*lsb) &^ w) | (w + lsb) | w
	}
	for _, c := range name[i:] {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return bad&msb == 0
}

// cleanText reports whether s can be a JSON string's contents as they
// are: valid UTF-8 with no byte below 0x20 and no backslash. Printable
// ASCII, the common case, is checked eight bytes at a time.
func cleanText(s []byte) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64(s[i:])
		// A byte below 0x20 or above 0x7f sets some high bit.
		if ((w-0x20*lsb)|w)&msb != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	for _, c := range s[i:] {
		if c < 0x20 {
			return false
		}
	}
	return bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s[i:])
}
