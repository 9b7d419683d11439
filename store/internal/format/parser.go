package format

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// parser reads JSON tokens from the plaintext b, at index i. Strings come
// back as spans: of b when they have no escape, else of copies, where
// their unescaped bytes are appended.
type parser struct {
	b      []byte
	i      int
	copies []byte
}

// bytes returns the bytes s locates.
func (p *parser) bytes(s Span) []byte {
	if s.off&inCopy != 0 {
		o := s.off &^ inCopy
		return p.copies[o : o+s.n]
	}
	return p.b[s.off : s.off+s.n]
}

// fail returns an error for reason at the current position.
func (p *parser) fail(reason string) error {
	return &Error{Reason: fmt.Sprintf("%s at byte %d", reason, p.i)}
}

// ws skips whitespace.
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

// expect consumes c, after whitespace, or fails.
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
	if bytes.HasPrefix(p.b[p.i:], []byte(w)) {
		p.i += len(w)
		return true
	}
	return false
}

// object parses {"key": value, ...}, calling field for each key with the
// parser positioned at the value. field must refuse duplicate keys.
func (p *parser) object(field func(key []byte) error) error {
	if err := p.expect('{'); err != nil {
		return err
	}
	return p.items('}', func() error {
		k, err := p.str()
		if err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		return field(p.bytes(k))
	})
}

// items parses what follows the opening bracket of an array or object:
// no item, or items separated by commas, then the closing bracket end.
// item parses one.
func (p *parser) items(end byte, item func() error) error {
	if p.peek() == end {
		p.i++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case end:
			p.i++
			return nil
		default:
			return p.fail(fmt.Sprintf("expected ',' or %q", end))
		}
	}
}

// version parses the format version: 1 to 6 digits, no leading zero.
func (p *parser) version() (int, error) {
	p.ws()
	start := p.i
	v := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
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

// str parses a JSON string. The common case, a string with nothing to
// unescape, costs a search for the closing quote and a check of the bytes
// before it.
func (p *parser) str() (Span, error) {
	if err := p.expect('"'); err != nil {
		return Span{}, err
	}
	start := p.i
	if j := bytes.IndexByte(p.b[start:], '"'); j >= 0 && cleanText(p.b[start:start+j]) {
		p.i = start + j + 1
		return Span{off: uint32(start), n: uint32(j)}, nil
	}
	return p.strSlow(start)
}

// strSlow parses the string whose contents start at start, checking every
// byte and unescaping into copies.
func (p *parser) strSlow(start int) (Span, error) {
	p.i = start
	out := -1 // where the unescaped string starts in copies, from the first escape
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if out < 0 {
				return Span{off: uint32(start), n: uint32(p.i - 1 - start)}, nil
			}
			return Span{off: uint32(out) | inCopy, n: uint32(len(p.copies) - out)}, nil
		case c == '\\':
			if out < 0 {
				out = len(p.copies)
				p.copies = append(p.copies, p.b[start:p.i]...)
			}
			if err := p.escape(); err != nil {
				return Span{}, err
			}
		case c < 0x20:
			return Span{}, p.fail("control character in string")
		case c < utf8.RuneSelf:
			if out >= 0 {
				p.copies = append(p.copies, c)
			}
			p.i++
		default:
			r, n := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && n <= 1 {
				return Span{}, p.fail("invalid UTF-8 in string")
			}
			if out >= 0 {
				p.copies = append(p.copies, p.b[p.i:p.i+n]...)
			}
			p.i += n
		}
	}
	return Span{}, p.fail("unterminated string")
}

// escape decodes the escape at the current position (a backslash) onto
// copies.
func (p *parser) escape() error {
	if p.i+1 >= len(p.b) {
		return p.fail("unterminated escape")
	}
	e := p.b[p.i+1]
	p.i += 2
	switch e {
	case '"', '\\', '/':
		p.copies = append(p.copies, e)
	case 'b':
		p.copies = append(p.copies, '\b')
	case 'f':
		p.copies = append(p.copies, '\f')
	case 'n':
		p.copies = append(p.copies, '\n')
	case 'r':
		p.copies = append(p.copies, '\r')
	case 't':
		p.copies = append(p.copies, '\t')
	case 'u':
		r, err := p.hex4()
		if err != nil {
			return err
		}
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
				p.i += 2
				if r2, err = p.hex4(); err != nil {
					return err
				}
			}
			if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
				return p.fail("invalid surrogate pair")
			}
		}
		p.copies = utf8.AppendRune(p.copies, r)
	default:
		return p.fail("invalid escape")
	}
	return nil
}

// hex4 parses the four hex digits of a \u escape.
func (p *parser) hex4() (rune, error) {
	if p.i+4 > len(p.b) {
		return 0, p.fail("short \\u escape")
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
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
