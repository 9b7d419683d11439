package format

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Record is an entry to encode.
type Record struct {
	Name string
	// Value is the value's text, or its base64 if Encoding is Base64; see
	// EncodeValue.
	Value            string
	Encoding         string
	Description      string
	Created, Updated time.Time
}

// EncodeValue returns the Value and Encoding of a Record holding v: v
// itself if it is valid UTF-8, else its base64, marked so.
func EncodeValue(v []byte) (value, encoding string) {
	if utf8.Valid(v) {
		return string(v), ""
	}
	return base64.StdEncoding.EncodeToString(v), Base64
}

// Bytes returns the bytes of r's value: a copy of its text, or the
// decoded base64.
func (r *Record) Bytes() []byte {
	if r.Encoding == Base64 {
		b, _ := base64.StdEncoding.DecodeString(r.Value) // checked where the value came from
		return b
	}
	return []byte(r.Value)
}

// Encode returns the document hush writes for version, recipients and
// entries (see the package comment), with no store key. It sorts entries
// by name, which must be unique; it checks nothing else.
func Encode(version int, recipients []string, entries []*Record) []byte {
	return EncodeWith(version, recipients, Integrity{}, entries)
}

// EncodeWith is Encode with the store key and rotation proofs of in,
// which it writes after the entries. The key must be KeySize bytes (or
// nil) and each proof RotationSize bytes; nothing checks them.
func EncodeWith(version int, recipients []string, in Integrity, entries []*Record) []byte {
	slices.SortFunc(entries, func(a, b *Record) int { return strings.Compare(a.Name, b.Name) })
	size := 64 + 48 + len(in.Rotations)*90
	for _, e := range entries {
		size += len(e.Name) + len(e.Value) + len(e.Description) + 140
	}
	for _, r := range recipients {
		size += len(r) + 3
	}
	b := make([]byte, 0, size)
	b = appendHead(b, version, recipients)
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRecord(b, e, nil)
	}
	b = append(b, '}')
	b = appendIntegrity(b, in)
	return append(b, '}')
}

// appendHead appends what comes before the first entry.
func appendHead(b []byte, version int, recipients []string) []byte {
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, int64(version), 10)
	b = append(b, `,"recipients":[`...)
	for i, r := range recipients {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, r)
	}
	return append(b, `],"entries":{`...)
}

// appendRecord appends one entry, "NAME":{...}, as the encoder writes it,
// with the timestamps from st if it is not nil.
func appendRecord(b []byte, e *Record, st *stamps) []byte {
	b = appendString(b, e.Name)
	b = append(b, `:{"value":`...)
	b = appendString(b, e.Value)
	if e.Encoding != "" {
		b = append(b, `,"encoding":`...)
		b = appendString(b, e.Encoding)
	}
	if e.Description != "" {
		b = append(b, `,"description":`...)
		b = appendString(b, e.Description)
	}
	b = append(b, `,"created":"`...)
	b = st.append(b, e.Created)
	b = append(b, `","updated":"`...)
	b = st.append(b, e.Updated)
	return append(b, `"}`...)
}

// stamps remembers the last timestamp formatted: the entries of a batch
// share theirs, and formatting one costs more than copying it.
type stamps struct {
	t time.Time
	s []byte
}

// append appends t as appendStamp does.
func (st *stamps) append(b []byte, t time.Time) []byte {
	if st == nil {
		return appendStamp(b, t)
	}
	if st.s == nil || !t.Equal(st.t) { // the same instant is written the same
		st.t, st.s = t, appendStamp(st.s[:0], t)
	}
	return append(b, st.s...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 is replaced with
// U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
