package format

import (
	"bytes"
	"encoding/base64"
)

// The fast path: an entry exactly as hush writes it. It is the whole cost
// of decoding most documents, and it accepts nothing the general parser
// (entry) refuses: every entry it declines goes to the general parser,
// which then says what is wrong.

// Members as hush writes them, each with the quote that opens its value.
var (
	openValue       = []byte(`:{"value":"`)
	base64Member    = []byte(`,"encoding":"base64"`)
	openDescription = []byte(`,"description":"`)
	openCreated     = []byte(`,"created":"`)
	openUpdated     = []byte(`,"updated":"`)
)

// plainEntry parses the next name and entry if they are exactly as hush
// writes them and valid as they stand: a name of printable ASCII, strings
// without escapes (no backslash), timestamps in the UTC form.
//
//	"NAME":{"value":"V"[,"encoding":"base64"][,"description":"D"][,"created":"C"][,"updated":"U"]}
//
// Otherwise it returns false with the position unchanged. stamp is the
// last timestamp found valid, as for check.
func (p *parser) plainEntry(e *Entry, stamp *[]byte) bool {
	s, i := p.b, p.i
	if i >= len(s) || s[i] != '"' {
		return false
	}
	var r Entry
	var ok bool
	if r.Name, i, ok = plainString(s, i+1); !ok || !plainName(p.bytes(r.Name)) || bytes.IndexByte(p.bytes(r.Name), '\\') >= 0 {
		return false
	}
	if !bytes.HasPrefix(s[i:], openValue) {
		return false
	}
	if r.Value, i, ok = plainString(s, i+len(openValue)); !ok || !cleanText(p.bytes(r.Value)) {
		return false
	}
	if bytes.HasPrefix(s[i:], base64Member) {
		if !validBase64(p.bytes(r.Value)) {
			return false
		}
		r.Base64 = true
		i += len(base64Member)
	}
	if bytes.HasPrefix(s[i:], openDescription) {
		if r.Description, i, ok = plainString(s, i+len(openDescription)); !ok || !cleanText(p.bytes(r.Description)) {
			return false
		}
	}
	if bytes.HasPrefix(s[i:], openCreated) {
		if r.Created, i, ok = plainStamp(s, i+len(openCreated), stamp); !ok {
			return false
		}
	}
	if bytes.HasPrefix(s[i:], openUpdated) {
		if r.Updated, i, ok = plainStamp(s, i+len(openUpdated), stamp); !ok {
			return false
		}
	}
	if i >= len(s) || s[i] != '}' {
		return false
	}
	*e, p.i = r, i+1
	return true
}

// plainString locates the string contents that start at s[i] and end at
// the next quote, and returns the position after that quote. The caller
// checks the contents.
func plainString(s []byte, i int) (Span, int, bool) {
	j := bytes.IndexByte(s[i:], '"')
	if j < 0 {
		return Span{}, 0, false
	}
	return Span{off: uint32(i), n: uint32(j)}, i + j + 1, true
}

// plainStamp locates the timestamp that starts at s[i] and ends at a
// quote, if it is in the UTC form hush writes, and returns the position
// after the quote. The timestamp is most often the one before it.
func plainStamp(s []byte, i int, stamp *[]byte) (Span, int, bool) {
	if n := len(*stamp); n > 0 && len(s)-i > n && s[i+n] == '"' && bytes.Equal(s[i:i+n], *stamp) {
		return Span{off: uint32(i), n: uint32(n)}, i + n + 1, true
	}
	span, end, ok := plainString(s, i)
	if !ok || !validStamp(s[i:end-1]) {
		return Span{}, 0, false
	}
	*stamp = s[i : end-1]
	return span, end, true
}

// validBase64 reports whether s is base64 that StdEncoding decodes.
func validBase64(s []byte) bool {
	_, err := base64.StdEncoding.Decode(make([]byte, base64.StdEncoding.DecodedLen(len(s))), s)
	return err == nil
}
