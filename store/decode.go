package store

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The document decoder. It is strict (see codec.go) and it can run while
// the plaintext is still being decrypted: the parser sees a growing prefix
// of it and asks for more when it reaches the end (see parser.grow), so a
// first read costs little more than the decryption. Nothing it returns is
// used before the decryption has authenticated the whole file.

// parser decodes a document from a prefix of the plaintext that grows.
type parser struct {
	b string // the plaintext so far; strings without escapes are substrings of it
	i int

	// more, when set, waits for more plaintext and returns the longer
	// prefix, or false once the plaintext is complete. Nil when b is whole.
	more func() (string, bool)

	// The scan of the plaintext as it arrives (see scan): b[:clean] is
	// valid UTF-8 with no byte below 0x20 and no backslash, so a string
	// that ends before clean is a plain substring with nothing to check.
	scanned, clean int
	dirty          bool // scanning stopped at clean: the rest is checked string by string

	extra []byte // strings not in the plaintext as they are; see span

	sizeHint int // about how long the plaintext will be, or 0
}

// span locates s, a string the parser returned: in the plaintext when it
// is a substring of it, else copied to the extra strings.
func (p *parser) span(s string) span {
	if len(s) == 0 {
		return span{}
	}
	base := uintptr(unsafe.Pointer(unsafe.StringData(p.b)))
	at := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	if at >= base && at-base+uintptr(len(s)) <= uintptr(len(p.b)) {
		return span{off: uint32(at - base), n: uint32(len(s))}
	}
	off := len(p.extra)
	p.extra = append(p.extra, s...)
	return span{off: uint32(off) | inExtra, n: uint32(len(s))}
}

const (
	lsb = 0x0101010101010101 // the low bit of each byte of a word
	msb = 0x8080808080808080 // the high bit of each byte
)

// load64 reads eight bytes of s at i, little-endian.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// scan extends the clean prefix over the plaintext received since the last
// call, eight bytes at a time. Documents hush writes from ordinary text
// values are clean throughout; any other document is still decoded
// exactly, string by string, from its first backslash, control character
// or invalid UTF-8 on.
func (p *parser) scan() {
	if p.dirty {
		return
	}
	s := p.b
	end := len(s)
	if p.more != nil {
		// Stop before a multi-byte character that may be cut off: a rune
		// boundary keeps the UTF-8 check of each piece exact.
		for k := end - 1; k >= p.scanned && k >= end-utf8.UTFMax; k-- {
			if utf8.RuneStart(s[k]) {
				if !utf8.FullRuneInString(s[k:]) {
					end = k
				}
				break
			}
		}
	}
	start := p.scanned
	if !asciiText(s[start:end]) && !cleanText(s[start:end]) {
		p.dirty = true
		return
	}
	p.scanned, p.clean = end, end
}

// asciiText reports whether s is ASCII without a control character or a
// backslash: the common case, checked eight bytes at a time and with
// strings.IndexByte, which the standard library vectorises.
func asciiText(s string) bool {
	var m uint64
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	for len(b) >= 32 {
		w0 := binary.LittleEndian.Uint64(b)
		w1 := binary.LittleEndian.Uint64(b[8:])
		w2 := binary.LittleEndian.Uint64(b[16:])
		w3 := binary.LittleEndian.Uint64(b[24:])
		// A byte below 0x20 or above 0x7f sets some high bit.
		m |= (w0 - 0x20*lsb) | w0 | (w1 - 0x20*lsb) | w1 | (w2 - 0x20*lsb) | w2 | (w3 - 0x20*lsb) | w3
		b = b[32:]
	}
	for _, c := range b {
		if c < 0x20 || c >= 0x80 {
			return false
		}
	}
	return m&msb == 0 && strings.IndexByte(s, '\\') < 0
}

// cleanText reports whether s is valid UTF-8 without a control character
// or a backslash.
func cleanText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '\\' {
			return false
		}
	}
	return utf8.ValidString(s)
}

// grow asks for more plaintext. It returns false at the end of it.
func (p *parser) grow() bool {
	if p.more == nil {
		return false
	}
	b, ok := p.more()
	if !ok {
		p.more = nil
		p.scan() // the rest, up to the very end
		return false
	}
	p.b = b
	p.scan()
	return true
}

// ensure grows the input until n bytes follow the position, or it ends.
func (p *parser) ensure(n int) {
	for len(p.b)-p.i < n && p.grow() {
	}
}

func (p *parser) fail(reason string) error {
	return &DocumentError{Reason: fmt.Sprintf("%s at byte %d", reason, p.i)}
}

func (p *parser) ws() {
	for p.i < len(p.b) || p.grow() {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// atEnd skips whitespace and reports whether the input ends there. A NUL
// byte is not the end: peek returns 0 for both.
func (p *parser) atEnd() bool {
	p.ws()
	return p.i >= len(p.b)
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
	p.ensure(len(w))
	if strings.HasPrefix(p.b[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str parses a JSON string. The common case, a string in the clean
// prefix, costs one search for the closing quote and no allocation.
func (p *parser) str() (string, error) {
	if p.i < len(p.b) && p.b[p.i] == '"' {
		p.i++
	} else if err := p.expect('"'); err != nil {
		return "", err
	}
	start := p.i
	j := strings.IndexByte(p.b[start:], '"')
	for from := start; j < 0; {
		from = len(p.b)
		if !p.grow() {
			return p.strSlow(start) // it says what is wrong
		}
		if j = strings.IndexByte(p.b[from:], '"'); j >= 0 {
			j += from - start
		}
	}
	end := start + j
	if end < p.clean {
		p.i = end + 1
		return p.b[start:end], nil
	}
	return p.strSlow(start)
}

// strSlow parses the string that starts at start, checking every byte.
func (p *parser) strSlow(start int) (string, error) {
	p.i = start
	var out []byte
	for p.i < len(p.b) || p.grow() {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if out == nil {
				return p.b[start : p.i-1], nil // checked and unescaped: a substring
			}
			return string(out), nil
		case c == '\\':
			if out == nil {
				out = append(make([]byte, 0, 2*(p.i-start)+8), p.b[start:p.i]...)
			}
			p.ensure(2)
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
					p.ensure(2)
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
			if out != nil {
				out = append(out, c)
			}
			p.i++
		default:
			p.ensure(utf8.UTFMax)
			r, n := utf8.DecodeRuneInString(p.b[p.i:])
			if r == utf8.RuneError && n <= 1 {
				return "", p.fail("invalid UTF-8 in string")
			}
			if out != nil {
				out = append(out, p.b[p.i:p.i+n]...)
			}
			p.i += n
		}
	}
	return "", p.fail("unterminated string")
}

func (p *parser) hex4() (rune, error) {
	p.ensure(4)
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
	v := 0
	for (p.i < len(p.b) || p.grow()) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		v = v*10 + int(p.b[p.i]-'0')
		p.i++
		if p.i-start > 6 {
			return 0, p.fail("bad version number")
		}
	}
	if p.i == start || (p.b[start] == '0' && p.i-start > 1) {
		return 0, p.fail("bad version number")
	}
	return v, nil
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

// decodeDocument parses and validates a whole plaintext document. Any
// defect rejects the whole document.
//
// The document's strings are substrings of b, viewed without a copy: on
// success the document owns b and the caller must never modify it again.
func decodeDocument(b []byte) (*document, error) {
	if len(b) > MaxStoreSize {
		return nil, fmt.Errorf("%w: document is %d bytes, the limit is %d", ErrLimit, len(b), MaxStoreSize)
	}
	if len(b) == 0 {
		return nil, &DocumentError{Reason: "empty document"}
	}
	p := &parser{b: unsafe.String(&b[0], len(b)), sizeHint: len(b)}
	p.scan()
	return p.document()
}

// document parses and validates the document, entry by entry as the
// plaintext arrives.
func (p *parser) document() (*document, error) {
	if p.atEnd() {
		return nil, &DocumentError{Reason: "empty document"}
	}
	d := &document{Version: -1, lazy: true}
	var top once
	unsorted := false
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
			if p.literal("null") {
				return nil
			}
			return p.entries(d, &unsorted)
		default:
			return p.fail("unknown field " + quoteName(k))
		}
	})
	if err != nil {
		return nil, err
	}
	if !p.atEnd() {
		return nil, p.fail("trailing data after the document")
	}
	switch {
	case d.Version < 1:
		return nil, &DocumentError{Reason: "missing or invalid format version"}
	case d.Version > FormatVersion:
		return nil, &DocumentError{Reason: fmt.Sprintf("format version %d is newer than this hush understands (%d); upgrade hush", d.Version, FormatVersion)}
	}
	d.plain, d.extra = p.b, string(p.extra)
	// hush writes entries sorted; a document edited by hand may not be.
	if unsorted {
		slices.SortStableFunc(d.sorted, func(a, b rawEntry) int { return strings.Compare(d.str(a.name), d.str(b.name)) })
		for i := 1; i < len(d.sorted); i++ {
			if name := d.str(d.sorted[i].name); name == d.str(d.sorted[i-1].name) {
				return nil, &DocumentError{Reason: "duplicate entry " + quoteName(name)}
			}
		}
	}
	d.sorted = slices.Clip(d.sorted)
	return d, nil
}

// entries parses the entries object into d.sorted, checking each entry
// as it comes. It sets unsorted if the names are out of order.
func (p *parser) entries(d *document, unsorted *bool) error {
	if err := p.expect('{'); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.i++
		return nil
	}
	if d.sorted == nil && p.sizeHint > 0 {
		d.sorted = make([]rawEntry, 0, p.sizeHint/entryBytes+1)
	}
	prev, stamp := "", ""
	for {
		var r rawEntry
		var name string
		if p.plainEntry(&r, &stamp) {
			name = p.b[r.name.off : r.name.off+r.name.n]
		} else {
			var err error
			if name, err = p.str(); err != nil {
				return err
			}
			if err := p.expect(':'); err != nil {
				return err
			}
			e, err := p.entry()
			if err != nil {
				return err
			}
			e.name = name
			if err := checkEntry(&e, &stamp); err != nil {
				return err
			}
			r = rawEntry{
				name: p.span(e.name), value: p.span(e.value), encoding: p.span(e.encoding),
				description: p.span(e.description), created: p.span(e.created), updated: p.span(e.updated),
			}
		}
		if len(d.sorted) > 0 && name <= prev {
			if name == prev {
				return &DocumentError{Reason: "duplicate entry " + quoteName(name)}
			}
			*unsorted = true
		}
		prev = name
		d.sorted = append(d.sorted, r)
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

// entryBytes is about the size of an entry as hush writes it, with a
// short value and its two timestamps: a guess, to size the list of
// entries from the size of the plaintext. Too small a guess costs a copy
// of the list; too large, zeroing memory that is never used.
const entryBytes = 128

// plainEntry parses the next name and entry if they are exactly as hush
// writes them, lie in the clean prefix and are valid as they stand: a
// plain name, and timestamps in UTC. Otherwise it returns false with the
// position unchanged, for the general parser to take over and say what
// is wrong. It is the whole cost of decoding most entries. stamp is the
// last timestamp found valid, as for checkEntry.
//
//	"NAME":{"value":"V"[,"encoding":"E"][,"description":"D"][,"created":"C"][,"updated":"U"]}
func (p *parser) plainEntry(r *rawEntry, stamp *string) bool {
	s := p.b[:p.clean]
	i := p.i
	if i >= len(s) || s[i] != '"' {
		return false
	}
	i++
	j := strings.IndexByte(s[i:], '"')
	if j < 0 || !plainName(s[i:i+j]) {
		return false
	}
	r.name = span{off: uint32(i), n: uint32(j)}
	i += j + 1
	if len(s)-i < len(`:{"value":"`) || s[i:i+len(`:{"value":"`)] != `:{"value":"` {
		return false
	}
	i += len(`:{"value":"`)
	if j = strings.IndexByte(s[i:], '"'); j < 0 {
		return false
	}
	r.value = span{off: uint32(i), n: uint32(j)}
	i += j + 1
	if len(s)-i >= len(`,"encoding":"base64"`) && s[i:i+len(`,"encoding":"base64"`)] == `,"encoding":"base64"` {
		if !validBase64(s[r.value.off : r.value.off+r.value.n]) {
			return false
		}
		r.encoding = span{off: uint32(i + len(`,"encoding":"`)), n: uint32(len(encodingBase64))}
		i += len(`,"encoding":"base64"`)
	}
	if len(s)-i >= len(`,"description":"`) && s[i:i+len(`,"description":"`)] == `,"description":"` {
		i += len(`,"description":"`)
		if j = strings.IndexByte(s[i:], '"'); j < 0 {
			return false
		}
		r.description = span{off: uint32(i), n: uint32(j)}
		i += j + 1
	}
	if len(s)-i >= len(`,"created":"`) && s[i:i+len(`,"created":"`)] == `,"created":"` {
		i += len(`,"created":"`)
		if i, r.created = plainStamp(s, i, stamp); i < 0 {
			return false
		}
	}
	if len(s)-i >= len(`,"updated":"`) && s[i:i+len(`,"updated":"`)] == `,"updated":"` {
		i += len(`,"updated":"`)
		if i, r.updated = plainStamp(s, i, stamp); i < 0 {
			return false
		}
	}
	if i >= len(s) || s[i] != '}' {
		return false
	}
	p.i = i + 1
	return true
}

// plainStamp locates the timestamp that starts at s[i] and ends at a
// quote, if it is in the UTC form hush writes, and returns the position
// after the quote, or -1. The timestamp is most often the one before it.
func plainStamp(s string, i int, stamp *string) (int, span) {
	if n := len(*stamp); n > 0 && len(s)-i > n && s[i+n] == '"' && s[i:i+n] == *stamp {
		return i + n + 1, span{off: uint32(i), n: uint32(n)}
	}
	j := strings.IndexByte(s[i:], '"')
	if j < 0 || !validStamp(s[i:i+j]) {
		return -1, span{}
	}
	*stamp = s[i : i+j]
	return i + j + 1, span{off: uint32(i), n: uint32(j)}
}

// textEntry is an entry as the parser returns it.
type textEntry struct {
	name, value, encoding, description string
	created, updated                   string
}

// checkEntry validates a decoded entry's name, encoding and timestamps,
// rewriting a timestamp with an offset into the UTC form hush writes.
// stamp is the last timestamp found valid: entries written together share
// theirs, which then need no second look.
func checkEntry(r *textEntry, stamp *string) error {
	if !plainName(r.name) {
		if err := ValidateName(r.name); err != nil {
			return &DocumentError{Reason: "invalid entry name " + quoteName(r.name)}
		}
	}
	switch r.encoding {
	case "":
	case encodingBase64:
		if !validBase64(r.value) {
			return &DocumentError{Reason: "bad base64 value for " + quoteName(r.name)}
		}
	default:
		return &DocumentError{Reason: "unknown value encoding for " + quoteName(r.name)}
	}
	for _, ts := range [2]*string{&r.created, &r.updated} {
		if *ts == "" || *ts == *stamp {
			continue
		}
		if validStamp(*ts) {
			*stamp = *ts
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, *ts)
		if err != nil {
			return &DocumentError{Reason: "bad timestamp for " + quoteName(r.name)}
		}
		*ts = t.UTC().Format(time.RFC3339Nano)
		if !validStamp(*ts) { // 9999-12-31T23:30:00-01:00 is in year 10000 in UTC
			return &DocumentError{Reason: "timestamp out of range for " + quoteName(r.name)}
		}
	}
	return nil
}

// plainName reports whether name is 1 to MaxNameLen printable ASCII
// characters other than space: the common case of a valid name, checked
// eight bytes at a time, without ValidateName's UTF-8 pass.
func plainName(name string) bool {
	n := len(name)
	if n == 0 || n > MaxNameLen {
		return false
	}
	var bad uint64
	i := 0
	for ; i+8 <= n; i += 8 {
		w := load64(name, i)
		// Some byte's high bit is set if a byte of w is below 0x21
		// (first term) or above 0x7e (the others).
		bad |= ((w - 0x21*lsb) &^ w) | (w + lsb) | w
	}
	for ; i < n; i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return bad&msb == 0
}

// entry parses one entry object.
func (p *parser) entry() (r textEntry, err error) {
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
