package store

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The document codec. The plaintext is ordinary JSON that any JSON tool
// reads, but it is encoded and decoded here by hand: encoding/json's
// reflection made the first read of a 1,000-entry store several times
// slower than age's decryption of it. The decoder is strict: unknown or
// duplicate fields, invalid UTF-8 and trailing data are all refused.

// encodeDocument appends the JSON encoding of d. Entries are sorted by
// name, so the output is deterministic.
func encodeDocument(d *document) []byte {
	entries := d.all()
	names := make([]string, 0, len(entries))
	size := 64
	for n, e := range entries {
		names = append(names, n)
		size += len(n) + len(e.Value) + len(e.Description) + 140
	}
	for _, r := range d.Recipients {
		size += len(r) + 3
	}
	sort.Strings(names)
	b := make([]byte, 0, size)
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, int64(d.Version), 10)
	b = append(b, `,"recipients":[`...)
	for i, r := range d.Recipients {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, r)
	}
	b = append(b, `],"entries":{`...)
	for i, n := range names {
		e := entries[n]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, n)
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
		b = e.Created.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","updated":"`...)
		b = e.Updated.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `"}`...)
	}
	return append(b, "}}"...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 (possible only in
// descriptions) is replaced with U+FFFD, as encoding/json does.
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

// parser decodes the document from a byte slice.
type parser struct {
	b string // the whole plaintext; strings without escapes are substrings of it
	i int
}

func (p *parser) fail(reason string) error {
	return &DocumentError{Reason: fmt.Sprintf("%s at byte %d", reason, p.i)}
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (p *parser) peek() byte {
	p.ws()
	if p.i >= len(p.b) {
		return 0
	}
	return p.b[p.i]
}

func (p *parser) expect(c byte) error {
	if p.peek() != c {
		return p.fail(fmt.Sprintf("expected %q", c))
	}
	p.i++
	return nil
}

// literal consumes the word w (null, true, false) if it is next.
func (p *parser) literal(w string) bool {
	p.ws()
	if strings.HasPrefix(p.b[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str parses a JSON string. The common case, no escapes, costs one scan
// and one allocation.
func (p *parser) str() (string, error) {
	if err := p.expect('"'); err != nil {
		return "", err
	}
	start := p.i
	j := strings.IndexByte(p.b[start:], '"')
	if j < 0 {
		return "", p.fail("unterminated string")
	}
	seg := p.b[start : start+j]
	if strings.IndexByte(seg, '\\') >= 0 {
		return p.strSlow(start)
	}
	for k := 0; k < len(seg); k++ {
		if seg[k] < 0x20 {
			p.i = start + k
			return "", p.fail("control character in string")
		}
	}
	if !utf8.ValidString(seg) {
		return "", p.fail("invalid UTF-8 in string")
	}
	p.i = start + j + 1
	return seg, nil
}

func (p *parser) strSlow(start int) (string, error) {
	out := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), nil
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return "", p.fail("unterminated escape")
			}
			e := p.b[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
						p.i += 2
						if r2, err = p.hex4(); err != nil {
							return "", err
						}
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return "", p.fail("invalid surrogate pair")
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", p.fail("invalid escape")
			}
		case c < 0x20:
			return "", p.fail("control character in string")
		case c < utf8.RuneSelf:
			out = append(out, c)
			p.i++
		default:
			r, n := utf8.DecodeRuneInString(p.b[p.i:])
			if r == utf8.RuneError && n <= 1 {
				return "", p.fail("invalid UTF-8 in string")
			}
			out = append(out, p.b[p.i:p.i+n]...)
			p.i += n
		}
	}
	return "", p.fail("unterminated string")
}

func (p *parser) hex4() (rune, error) {
	if p.i+4 > len(p.b) {
		return 0, p.fail("short \\u escape")
	}
	var r rune
	for _, c := range []byte(p.b[p.i : p.i+4]) {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, p.fail("bad \\u escape")
		}
	}
	p.i += 4
	return r, nil
}

// object parses {"key": value, ...}, calling field for each key with the
// parser positioned at the value. field must refuse duplicate keys.
func (p *parser) object(field func(key string) error) error {
	if err := p.expect('{'); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		k, err := p.str()
		if err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		if err := field(k); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.fail("expected ',' or '}'")
		}
	}
}

func (p *parser) version() (int, error) {
	p.ws()
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	if p.i == start || p.i-start > 6 || (p.b[start] == '0' && p.i-start > 1) {
		return 0, p.fail("bad version number")
	}
	return strconv.Atoi(p.b[start:p.i])
}

// validStamp reports whether s has the exact form the encoder writes.
func validStamp(s string) bool {
	_, ok := scanUTC(s)
	return ok
}

// parseStamp parses a timestamp already checked by decodeDocument; the
// empty string is the zero time.
func parseStamp(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if v, ok := scanUTC(s); ok {
		t := time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], v[6], time.UTC)
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err == nil
}

// scanUTC splits the exact form the encoder writes,
// 2006-01-02T15:04:05[.fraction]Z, into year, month, day, hour, minute,
// second and nanosecond, without the cost of time.Parse.
func scanUTC(s string) (v [7]int, ok bool) {
	n := len(s)
	if n < 20 || n > 30 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[n-1] != 'Z' {
		return v, false
	}
	for k, pos := range [6]int{0, 5, 8, 11, 14, 17} {
		w := 2
		if k == 0 {
			w = 4
		}
		x := 0
		for j := pos; j < pos+w; j++ {
			c := s[j] - '0'
			if c > 9 {
				return v, false
			}
			x = x*10 + int(c)
		}
		v[k] = x
	}
	ns := 0
	if n > 20 {
		if s[19] != '.' || n == 21 {
			return v, false
		}
		digits := 0
		for j := 20; j < n-1; j++ {
			c := s[j] - '0'
			if c > 9 {
				return v, false
			}
			ns = ns*10 + int(c)
			digits++
		}
		for ; digits < 9; digits++ {
			ns *= 10
		}
	}
	if v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return v, false
	}
	if v[2] > daysIn(v[1], v[0]) {
		return v, false
	}
	v[6] = ns
	return v, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// once refuses a second occurrence of one of a fixed set of fields.
type once uint8

func (o *once) see(p *parser, bit uint8, k string) error {
	if *o&once(bit) != 0 {
		return p.fail("duplicate key " + quoteName(k))
	}
	*o |= once(bit)
	return nil
}

// parseDocument decodes b strictly. It does not validate entry names or
// encodings; decodeDocument does.
//
// The document's strings are substrings of b, viewed without a copy: on
// success the document owns b and the caller must never modify it again.
func parseDocument(b []byte) (*document, error) {
	if len(b) == 0 {
		return nil, &DocumentError{Reason: "empty document"}
	}
	p := &parser{b: unsafe.String(&b[0], len(b))}
	d := &document{Version: -1, lazy: true}
	var top once
	err := p.object(func(k string) error {
		switch k {
		case "version", "recipients", "entries":
			if err := top.see(p, map[string]uint8{"version": 1, "recipients": 2, "entries": 4}[k], k); err != nil {
				return err
			}
		}
		switch k {
		case "version":
			v, err := p.version()
			d.Version = v
			return err
		case "recipients":
			if p.literal("null") {
				return nil
			}
			if err := p.expect('['); err != nil {
				return err
			}
			if p.peek() == ']' {
				p.i++
				return nil
			}
			for {
				r, err := p.str()
				if err != nil {
					return err
				}
				d.Recipients = append(d.Recipients, r)
				switch p.peek() {
				case ',':
					p.i++
				case ']':
					p.i++
					return nil
				default:
					return p.fail("expected ',' or ']'")
				}
			}
		case "entries":
			// Presize: every entry is an object, so this is an upper bound
			// unless values hold braces; append grows it then.
			d.sorted = make([]rawEntry, 0, strings.Count(p.b[p.i:], "{"))
			if p.literal("null") {
				return nil
			}
			return p.object(func(name string) error {
				r, err := p.entry()
				if err != nil {
					return err
				}
				r.name = name
				d.sorted = append(d.sorted, r)
				return nil
			})
		default:
			return p.fail("unknown field " + quoteName(k))
		}
	})
	if err != nil {
		return nil, err
	}
	if p.peek() != 0 {
		return nil, p.fail("trailing data after the document")
	}
	return d, nil
}

// entry parses one entry object.
func (p *parser) entry() (r rawEntry, err error) {
	if err := p.expect('{'); err != nil {
		return r, err
	}
	var seen once
	for first := true; ; first = false {
		if first && p.peek() == '}' {
			break
		}
		f, err := p.str()
		if err != nil {
			return r, err
		}
		bit := entryField(f)
		if bit == 0 {
			return r, p.fail("unknown entry field " + quoteName(f))
		}
		if err := seen.see(p, bit, f); err != nil {
			return r, err
		}
		if err := p.expect(':'); err != nil {
			return r, err
		}
		switch bit {
		case 1:
			r.value, err = p.str()
		case 2:
			r.encoding, err = p.str()
		case 4:
			r.description, err = p.str()
		case 8:
			r.created, err = p.str()
		case 16:
			r.updated, err = p.str()
		}
		if err != nil {
			return r, err
		}
		if p.peek() == ',' {
			p.i++
			continue
		}
		break
	}
	if err := p.expect('}'); err != nil {
		return r, err
	}
	if seen&1 == 0 {
		return r, p.fail("entry has no value")
	}
	return r, nil
}

// entryField returns the bit of a known entry field, or 0.
func entryField(f string) uint8 {
	switch f {
	case "value":
		return 1
	case "encoding":
		return 2
	case "description":
		return 4
	case "created":
		return 8
	case "updated":
		return 16
	}
	return 0
}

// validBase64 reports whether s is standard, padded base64.
func validBase64(s string) bool {
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}
