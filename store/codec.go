package store

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	if n < 20 || n > 30 {
		return v, false
	}
	_ = s[19]
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[n-1] != 'Z' {
		return v, false
	}
	d0, d1, d2, d3 := s[0]-'0', s[1]-'0', s[2]-'0', s[3]-'0'
	mo0, mo1, dd0, dd1 := s[5]-'0', s[6]-'0', s[8]-'0', s[9]-'0'
	h0, h1, mi0, mi1, s0, s1 := s[11]-'0', s[12]-'0', s[14]-'0', s[15]-'0', s[17]-'0', s[18]-'0'
	if d0 > 9 || d1 > 9 || d2 > 9 || d3 > 9 || mo0 > 9 || mo1 > 9 || dd0 > 9 || dd1 > 9 ||
		h0 > 9 || h1 > 9 || mi0 > 9 || mi1 > 9 || s0 > 9 || s1 > 9 { // a non-digit wraps past 9
		return v, false
	}
	v[0] = int(d0)*1000 + int(d1)*100 + int(d2)*10 + int(d3)
	v[1] = int(mo0)*10 + int(mo1)
	v[2] = int(dd0)*10 + int(dd1)
	v[3] = int(h0)*10 + int(h1)
	v[4] = int(mi0)*10 + int(mi1)
	v[5] = int(s0)*10 + int(s1)
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
	if v[2] > 28 && v[2] > daysIn(v[1], v[0]) {
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

// validBase64 reports whether s is standard, padded base64.
func validBase64(s string) bool {
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}
