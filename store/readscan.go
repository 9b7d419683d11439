package store

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A docScanner finds the values of some names in a plaintext fed to it a
// piece at a time (see scanWritten), in one pass and without holding it:
// it follows the JSON structure of the document (see package format:
// one object whose member "entries" is an object of name: entry, each
// entry an object of string members) and keeps the text of a string only
// where it needs it: the top-level keys, the names of the entries, and
// the members "value" and "encoding" of the entries asked for. The
// entries are sorted by name, so it walks the names asked for in order
// alongside them. It checks the structure it follows; it does not check
// the rest of the document (package format does that on every read).
type docScanner struct {
	want  []string // the names asked for, sorted
	order []int    // order[i]: the index in the caller's names of want[i]; nil: i
	next  int      // the first of want not yet met
	vals  [][]byte // the values found, by index in the caller's names

	off   int64 // bytes fed so far
	depth int   // of objects and arrays, outside strings
	// key is set where the next string at this depth is an object's key.
	key      bool
	inStr    bool
	esc      bool // after a backslash in a string
	hex      int  // hex digits of a \u escape still to come
	code     rune // the \u escape so far
	high     rune // a high surrogate waiting for its low half
	keep     bool // the string's text goes to text
	text     []byte
	entries  bool // inside "entries" (depth 2 and below)
	isEntry  bool // the last key at depth 1 was "entries"
	cur      int  // the entry being read (depth 3) is want[cur:curEnd]
	curEnd   int
	member   string // the last member key read in a wanted entry
	value    []byte
	hasValue bool
	b64      bool
}

func newDocScanner(names []string) *docScanner {
	s := &docScanner{want: names, vals: make([][]byte, len(names)), cur: -1}
	if slices.IsSorted(names) {
		return s // as the names of a migration or an import come
	}
	s.order = make([]int, len(names))
	for i := range names {
		s.order[i] = i
	}
	slices.SortStableFunc(s.order, func(a, b int) int { return strings.Compare(names[a], names[b]) })
	s.want = make([]string, len(names))
	for i, j := range s.order {
		s.want[i] = names[j]
	}
	return s
}

func (s *docScanner) fail(format string, args ...any) error {
	return &DocumentError{Reason: fmt.Sprintf(format, args...) + fmt.Sprintf(" (read back, at byte %d)", s.off)}
}

// feed scans the next piece of the plaintext.
func (s *docScanner) feed(p []byte) error {
	base := s.off
	for i := 0; i < len(p); i++ {
		c := p[i]
		if s.inStr && !s.esc && s.hex == 0 {
			// The run of plain bytes up to the next quote or backslash.
			seg := p[i:]
			if q := bytes.IndexByte(seg, '"'); q >= 0 {
				seg = seg[:q]
			}
			if b := bytes.IndexByte(seg, '\\'); b >= 0 {
				seg = seg[:b]
			}
			if s.high != 0 && len(seg) > 0 {
				return s.fail("invalid surrogate pair")
			}
			if s.keep {
				s.text = append(s.text, seg...)
			}
			if i += len(seg); i == len(p) {
				break
			}
			c = p[i]
		}
		s.off = base + int64(i)
		var err error
		switch {
		case s.inStr:
			err = s.strByte(c)
		case c == ':':
			s.key = false
		case c == '"' && s.depth == 2 && s.entries && s.key:
			n, ok, err := s.plainEntry(p[i:])
			if err != nil {
				return err
			}
			if ok {
				i += n - 1
				continue
			}
			s.openString()
		case c == '"':
			s.openString()
		default:
			err = s.structByte(c)
		}
		if err != nil {
			return err
		}
	}
	s.off = base + int64(len(p))
	return nil
}

// plainEntry reads the entry at the start of p, a name and its object,
// if it is all in p and in the form hush writes it with no escape in its
// strings (nearly every entry of a store hush wrote), and returns its
// length. Otherwise it returns false and the byte-wise scan reads it. An
// error is a wanted entry's value that does not decode.
func (s *docScanner) plainEntry(p []byte) (int, bool, error) {
	name, i, ok := plainStr(p, 0)
	if !ok || !bytes.HasPrefix(p[i:], entryOpen) {
		return 0, false, nil
	}
	value, i, ok := plainStr(p, i+len(entryOpen)-1)
	if !ok {
		return 0, false, nil
	}
	b64 := false
	if bytes.HasPrefix(p[i:], entryB64) {
		b64, i = true, i+len(entryB64)
	}
	if bytes.HasPrefix(p[i:], entryDesc) {
		if _, i, ok = plainStr(p, i+len(entryDesc)-1); !ok {
			return 0, false, nil
		}
	}
	for _, member := range [][]byte{entryCreated, entryUpdated} {
		if !bytes.HasPrefix(p[i:], member) {
			return 0, false, nil
		}
		if _, i, ok = plainStr(p, i+len(member)-1); !ok {
			return 0, false, nil
		}
	}
	if i == len(p) || p[i] != '}' {
		return 0, false, nil
	}
	s.text = append(s.text[:0], name...)
	s.entryName()
	if s.cur >= 0 {
		s.value, s.hasValue, s.b64 = bytes.Clone(value), true, b64
		if s.value == nil {
			s.value = []byte{}
		}
		if err := s.endEntry(); err != nil {
			return 0, false, err
		}
	}
	s.key = false
	return i + 1, true, nil
}

// The members of an entry as hush writes them, each with the quote that
// opens its value.
var (
	entryOpen    = []byte(`:{"value":"`)
	entryB64     = []byte(`,"encoding":"base64"`)
	entryDesc    = []byte(`,"description":"`)
	entryCreated = []byte(`,"created":"`)
	entryUpdated = []byte(`,"updated":"`)
)

// plainStr returns the text of the string whose opening quote is p[i],
// and the index after its closing quote, if it is all in p and has no
// escape.
func plainStr(p []byte, i int) ([]byte, int, bool) {
	if i >= len(p) || p[i] != '"' {
		return nil, 0, false
	}
	q := bytes.IndexByte(p[i+1:], '"')
	if q < 0 {
		return nil, 0, false
	}
	t := p[i+1 : i+1+q]
	if bytes.IndexByte(t, '\\') >= 0 {
		return nil, 0, false
	}
	return t, i + q + 2, true
}

// strByte takes byte c of a string: a quote or a backslash, or a byte of
// an escape.
func (s *docScanner) strByte(c byte) error {
	switch {
	case s.hex > 0:
		v, ok := unhex(c)
		if !ok {
			return s.fail("bad \\u escape")
		}
		s.code = s.code<<4 | v
		if s.hex--; s.hex == 0 {
			return s.addRune(s.code)
		}
		return nil
	case s.esc:
		s.esc = false
		var r byte
		switch c {
		case '"', '\\', '/':
			r = c
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			s.hex, s.code = 4, 0
			return nil
		default:
			return s.fail("bad escape")
		}
		return s.addRune(rune(r))
	case c == '\\':
		s.esc = true
		return nil
	}
	// c is the closing quote.
	s.inStr = false
	if s.high != 0 {
		return s.fail("invalid surrogate pair")
	}
	return s.endString()
}

// addRune adds r, from an escape, to the string's text. A surrogate
// that is not half of a pair is an error, as it is to the decoder.
func (s *docScanner) addRune(r rune) error {
	if s.high != 0 {
		if !utf16.IsSurrogate(r) || r < 0xdc00 {
			return s.fail("invalid surrogate pair")
		}
		r, s.high = utf16.DecodeRune(s.high, r), 0
	} else if utf16.IsSurrogate(r) {
		if r >= 0xdc00 {
			return s.fail("invalid surrogate pair")
		}
		s.high = r
		return nil
	}
	if s.keep {
		s.text = utf8.AppendRune(s.text, r)
	}
	return nil
}

func unhex(c byte) (rune, bool) {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0'), true
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10), true
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10), true
	}
	return 0, false
}

// openString starts a string, to keep if it is one the scan needs.
func (s *docScanner) openString() {
	s.inStr, s.text = true, s.text[:0]
	s.keep = s.key && (s.depth == 1 || s.depth == 2 && s.entries) ||
		s.depth == 3 && s.cur >= 0 && (s.key || s.member == "value" || s.member == "encoding")
}

// structByte takes byte c outside strings.
func (s *docScanner) structByte(c byte) error {
	switch c {
	case '"':
		s.openString()
	case '{', '[':
		s.depth++
		s.key = c == '{'
		switch {
		case s.depth == 2 && s.isEntry:
			if c != '{' {
				return s.fail(`"entries" is not an object`)
			}
			s.entries = true
		case s.depth == 3 && s.entries && c != '{':
			return s.fail("an entry is not an object")
		case s.depth > 3 && s.entries:
			return s.fail("an entry holds more than strings")
		}
	case '}', ']':
		if s.depth == 3 && s.cur >= 0 {
			if err := s.endEntry(); err != nil {
				return err
			}
		}
		s.depth--
		if s.depth < 0 {
			return s.fail("unbalanced %q", c)
		}
		if s.depth <= 1 {
			s.entries = false
		}
		if s.depth == 1 {
			s.isEntry = false
		}
		s.key = false
	case ',':
		s.key = true
		if s.depth == 1 {
			s.isEntry = false
		}
		if s.depth == 3 {
			s.member = ""
		}
	case ':':
		s.key = false
	}
	return nil
}

// endString acts on the string just closed.
func (s *docScanner) endString() error {
	switch {
	case s.depth == 1 && s.key:
		s.isEntry = string(s.text) == "entries"
	case s.depth == 2 && s.entries && s.key:
		s.entryName()
	case s.depth == 3 && s.cur >= 0 && s.key:
		s.member = ""
		switch string(s.text) {
		case "value":
			s.member = "value"
		case "encoding":
			s.member = "encoding"
		}
	case s.depth == 3 && s.cur >= 0 && s.member == "value":
		s.value, s.hasValue = bytes.Clone(s.text), true
		if s.value == nil {
			s.value = []byte{}
		}
	case s.depth == 3 && s.cur >= 0 && s.member == "encoding":
		s.b64 = string(s.text) == "base64"
	}
	return nil
}

// entryName takes the name of an entry, in s.text: if it is asked for,
// the entry's value is kept (s.cur).
func (s *docScanner) entryName() {
	for s.next < len(s.want) && s.want[s.next] < string(s.text) {
		s.next++ // not in the file
	}
	s.cur, s.curEnd = -1, s.next
	for s.curEnd < len(s.want) && s.want[s.curEnd] == string(s.text) {
		s.curEnd++
	}
	if s.curEnd > s.next {
		s.cur = s.next
		s.value, s.hasValue, s.b64, s.member = nil, false, false, ""
	}
}

// endEntry takes the value of the wanted entry just read.
func (s *docScanner) endEntry() error {
	if !s.hasValue {
		return s.fail("an entry has no value")
	}
	v := s.value
	if s.b64 {
		d := make([]byte, base64.StdEncoding.DecodedLen(len(v)))
		n, err := base64.StdEncoding.Decode(d, v)
		if err != nil {
			return s.fail("a value is not base64")
		}
		v = d[:n]
	}
	for i := s.cur; i < s.curEnd; i++ {
		if s.order != nil {
			s.vals[s.order[i]] = v
		} else {
			s.vals[i] = v
		}
	}
	s.next, s.cur = s.curEnd, -1
	return nil
}

// end checks that the plaintext ended where the document did.
func (s *docScanner) end() error {
	if s.depth != 0 || s.inStr || s.off == 0 {
		return s.fail("the document ends early")
	}
	return nil
}
