// Package format is the plaintext of a hush store: the JSON document that
// age encrypts. [Encode] writes it byte for byte as hush always has;
// [Decode] reads it strictly, from one []byte, and returns spans of that
// plaintext instead of copies of its strings.
//
// # What hush writes
//
// One line of JSON with no whitespace, entries sorted by name (in byte
// order), each entry's members in this order:
//
//	{"version":1,"recipients":["age1...",...],"entries":{"NAME":{"value":"V","encoding":"base64","description":"D","created":"T","updated":"T"},...},"store_key":"K","rotations":["P",...]}
//
// In it:
//
//   - "recipients" is [] when there are none.
//   - "encoding" is there only for a value that is not valid UTF-8: "value"
//     is then its standard, padded base64. Any other value is written as
//     its text.
//   - "description" is there only when it is not empty.
//   - "created" and "updated" are RFC 3339 in UTC, with a "Z" and the
//     fraction of a second without trailing zeros (time.RFC3339Nano); the
//     zero time is 0001-01-01T00:00:00Z.
//   - Strings escape only what JSON requires: \" and \\, \n, \r and \t,
//     and \u00XX for the other bytes below 0x20. Everything else, U+2028,
//     "<" and "&" included, is written as it is. Invalid UTF-8 in a
//     recipient or a description is written as U+FFFD.
//   - "store_key" and "rotations" are there only when the document has a
//     store key and rotation proofs (see Integrity below).
//
// # Integrity
//
// age authenticates a file to its recipients, not to its writer, so the
// document carries a secret that only its readers know:
//
//   - "store_key" is the standard, padded base64 of KeySize (32) random
//     bytes, the store key. Documents written before it existed have none.
//   - "rotations" holds the proofs of the last key changes, oldest first,
//     at most MaxRotations (64) of them: each the standard, padded base64
//     of RotationSize (64) bytes, H(new key) || HMAC-SHA256(H(old key),
//     "hush rotate v1" || H(new key)), where H is SHA-256. A merge of two
//     sides that changed the key carries a proof from each.
//
// A reader that remembers H of the key it last accepted can follow the
// proofs to the current key; see package store for the policy. This
// package only checks their form.
//
// # What is read
//
// That document, and any JSON text of the same shape that a JSON tool may
// make of it:
//
//   - whitespace (space, tab, CR, LF) around any token;
//   - members in any order, and entries in any order (they are sorted);
//   - every JSON escape: \/, \b, \f, \u and four hex digits, surrogate pairs;
//   - "recipients", "entries", "store_key" and "rotations" absent,
//     and "recipients", "entries" and "rotations" null; "encoding",
//     "description", "created" and "updated" absent or ""; an empty
//     timestamp is the zero time;
//   - timestamps that time.Parse reads with time.RFC3339Nano, with any
//     offset or fraction: they are read as the same instant in UTC, which
//     must fall in the years 0000 to 9999.
//
// The version is a number of 1 to 6 digits without a leading zero, from 1
// to [Version].
//
// # What is refused
//
// Anything else: the whole document is refused with an [*Error] and no
// part of it is used. In particular:
//
//   - empty input, or only whitespace; anything but an object; any byte
//     but whitespace after it (a NUL included);
//   - a member this package does not know, in the document or in an
//     entry; a member given twice; two entries with the same name, however
//     they are escaped;
//   - an entry that is not an object or has no "value"; a string where a
//     number belongs or the reverse; null anywhere but as "recipients",
//     "entries" or "rotations";
//   - in any string: invalid UTF-8, a raw byte below 0x20, an unknown
//     escape, a \u escape without four hex digits, a lone surrogate;
//   - a version of 0, with a leading zero or over 6 digits, or newer than
//     [Version];
//   - an entry name that [ValidName] refuses;
//   - an encoding other than "base64", or a base64 value that
//     encoding/base64's StdEncoding does not decode;
//   - a timestamp that is not RFC 3339, or is outside the years 0000 to
//     9999 in UTC;
//   - a "store_key" that is not the padded base64 of exactly 32 bytes, a
//     rotation proof that is not that of exactly 64 bytes, more than 64
//     proofs, or proofs without a store key.
//
// An error says what is wrong and where (the byte offset), and may quote
// an entry name or a member name, never a value.
package format

import (
	"bytes"
	"encoding/base64"
	"sort"
	"strconv"
	"time"
)

// Version is the version of the document this package writes. Documents
// of this and every earlier version are read.
const Version = 1

// MaxNameLen is the longest entry name, in bytes.
const MaxNameLen = 255

// Base64 is the "encoding" of a value that is not valid UTF-8.
const Base64 = "base64"

// Error is a refusal: the plaintext is not a document this package reads.
// Reason says what is wrong; it never quotes a value.
type Error struct{ Reason string }

func (e *Error) Error() string { return "malformed document: " + e.Reason }

// A Span locates a decoded string: bytes of the plaintext, or, for a
// string that is not in the plaintext as it is (one with escapes, or a
// timestamp rewritten in UTC), of the document's own copy of it. Spans
// hold no pointers, so the garbage collector never scans a document's
// entries, however many there are.
type Span struct{ off, n uint32 }

// inCopy marks a span of the document's copied strings. The largest
// plaintext hush reads (256 MiB) is far below it.
const inCopy = 1 << 31

// Len is the length of the string s locates.
func (s Span) Len() int { return int(s.n) }

// Entry is a decoded entry. Created and Updated locate timestamps in the
// form hush writes, or are empty for the zero time.
type Entry struct {
	Name, Value, Description Span
	Created, Updated         Span
	Base64                   bool // Value is the base64 of the bytes
}

// Document is a decoded plaintext. It refers to the plaintext it was
// decoded from, which must not change while the document is in use.
type Document struct {
	Version    int
	Recipients []string
	Integrity
	// Entries are sorted by name, and no two have the same one.
	Entries []Entry

	plain  []byte // the plaintext
	copies []byte // the strings that are not in it as they are
}

// Bytes returns the bytes s locates. They belong to the document: the
// caller must not modify them.
func (d *Document) Bytes(s Span) []byte {
	if s.off&inCopy != 0 {
		o := s.off &^ inCopy
		return d.copies[o : o+s.n : o+s.n]
	}
	return d.plain[s.off : s.off+s.n : s.off+s.n]
}

// String returns a copy of the string s locates.
func (d *Document) String(s Span) string { return string(d.Bytes(s)) }

// Find returns the index of the entry named name, and whether there is one.
func (d *Document) Find(name string) (int, bool) {
	// string(b) in a comparison allocates nothing; []byte(name) would.
	i := sort.Search(len(d.Entries), func(i int) bool { return string(d.Bytes(d.Entries[i].Name)) >= name })
	return i, i < len(d.Entries) && string(d.Bytes(d.Entries[i].Name)) == name
}

// Value returns a copy of the bytes of e's value, decoded from base64 if
// it is marked so.
func (d *Document) Value(e *Entry) []byte {
	v := d.Bytes(e.Value)
	if !e.Base64 {
		return bytes.Clone(v)
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(v)))
	n, _ := base64.StdEncoding.Decode(out, v) // checked by Decode
	return out[:n]
}

// Time returns the timestamp s locates; the zero time if it is empty.
func (d *Document) Time(s Span) time.Time {
	v, ok := scanUTC(d.Bytes(s))
	if !ok {
		return time.Time{}
	}
	return time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], v[6], time.UTC)
}

// Record returns a copy of entry e, for a caller that needs the entry as
// strings: to change the document, or to encode it again.
func (d *Document) Record(e *Entry) *Record {
	r := &Record{
		Name:        d.String(e.Name),
		Value:       d.String(e.Value),
		Description: d.String(e.Description),
		Created:     d.Time(e.Created),
		Updated:     d.Time(e.Updated),
	}
	if e.Base64 {
		r.Encoding = Base64
	}
	return r
}

// quote renders a name for an error message: as it is if it is printable
// ASCII with nothing to escape, else as a Go string literal, so that no
// byte of it can garble a terminal.
func quote(name []byte) string {
	for _, c := range name {
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return strconv.Quote(string(name))
		}
	}
	if len(name) == 0 {
		return `""`
	}
	return string(name)
}
