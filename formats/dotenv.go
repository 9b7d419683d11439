package formats

import (
	"bytes"
	"fmt"
	"io"

	"github.com/hush-secrets/hush/store"
)

// ParseDotenv reads a dotenv file. The dialect, which the exporter
// [WriteDotenv] writes and this parser reads back exactly:
//
//   - One assignment per line: NAME=VALUE, with optional blanks around the
//     "=" and an optional leading "export " (as in a shell script).
//   - NAME is a letter or "_" followed by letters, digits, "_", "." and "-".
//   - Blank lines, and lines whose first non-blank character is "#", are
//     ignored.
//   - 'single quotes' are literal: no escapes at all, and the value may span
//     lines. A single-quoted value cannot contain a single quote.
//   - "double quotes" may span lines (real newlines are kept) and take the
//     escapes \n \r \t \" \\ \$ \' \` and \xHH (any byte, as two hex
//     digits). Any other backslash sequence is an error. "$" is literal:
//     nothing is expanded.
//   - Unquoted values run to the end of the line and are trimmed. A "#"
//     that follows a blank starts a comment; a "#" inside a word is part of
//     the value (KEY=a#b is "a#b", KEY=a #b is "a").
//   - After a closing quote only blanks and a "#" comment may follow.
//   - A name given twice is an error.
//
// Errors are *ParseError values giving the line number; they never contain
// a value (nor a line that might be part of one).
//
// The values of unquoted and single-quoted assignments are slices of one
// copy of the input, each with its capacity at its length.
func ParseDotenv(r io.Reader) ([]Secret, error) {
	data, err := readAllLimited(r)
	if err != nil {
		return nil, err
	}
	return ParseDotenvBytes(data)
}

// ParseDotenvBytes is [ParseDotenv] of data, without copying it: the
// values of unquoted and single-quoted assignments are slices of data,
// which must not change while they are in use. Data over the largest
// store (store.MaxStoreSize) is refused as ParseDotenv refuses it.
func ParseDotenvBytes(data []byte) ([]Secret, error) {
	if len(data) > store.MaxStoreSize {
		return nil, fmt.Errorf("formats: input is larger than %d bytes: %w", store.MaxStoreSize, store.ErrLimit)
	}
	names, values, err := ParseDotenvLists(data) // which drops a byte order mark
	if err != nil {
		return nil, err
	}
	out := make([]Secret, len(names))
	for i := range out {
		out[i] = Secret{Name: names[i], Value: values[i]}
	}
	return out, nil
}

// ParseDotenvLists is [ParseDotenvBytes] with the secrets as two lists,
// as [ImportLists] takes them: the secret named names[i] has the value
// values[i].
func ParseDotenvLists(data []byte) (names []string, values [][]byte, err error) {
	if len(data) > store.MaxStoreSize {
		return nil, nil, fmt.Errorf("formats: input is larger than %d bytes: %w", store.MaxStoreSize, store.ErrLimit)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	out, ok, err := parseSplit(data)
	if !ok {
		// One assignment a line, as files mostly are: sized once, not
		// grown by copies (and rehashes) at every doubling; up to a
		// bound, so that a file of empty lines costs no more than that.
		n := min(estimateLines(data), maxPresize)
		p := &dotenvParser{data: data, line: 1, presize: n, out: makeLists(n)}
		out, err = p.parse()
	}
	if err != nil {
		return nil, nil, err
	}
	return out.names, out.values, nil
}

// lists are secrets as two lists: names[i] names values[i].
type lists struct {
	names  []string
	values [][]byte
}

// makeLists returns empty lists with room for n secrets.
func makeLists(n int) lists {
	return lists{make([]string, 0, n), make([][]byte, 0, n)}
}

func (l lists) len() int { return len(l.names) }

// slice returns l[i:j:k], as a slice expression would of each list.
func (l lists) slice(i, j, k int) lists {
	return lists{l.names[i:j:k], l.values[i:j:k]}
}

// A dotenvParser parses data from pos, line, into out. parse returns at
// the end of data, or at the first line that starts at or past end.
type dotenvParser struct {
	data []byte
	pos  int
	line int
	end  int // 0: the end of data

	out     lists
	presize int // the room made for the names seen (see parse)
	// While the names come in order (as hush export writes them) none can
	// repeat; the map of names (to their index in out) is built only once
	// a name comes out of order.
	seen map[string]int
	// Until then the names are not made a string each: they are copied
	// into a buffer, which becomes one string whose pieces they are when
	// it is full (see flush). prev is the name before, in data.
	names nameBuffer
	prev  []byte
}

func (p *dotenvParser) errorf(line int, format string, args ...any) error {
	return &ParseError{Format: "dotenv", Line: line, Reason: fmt.Sprintf(format, args...)}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

func isNameStart(c byte) bool { return c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' }

func isNameByte(c byte) bool {
	return isNameStart(c) || '0' <= c && c <= '9' || c == '.' || c == '-'
}

// validDotenvName reports whether name can be written as a dotenv name.
func validDotenvName[S string | []byte](name S) bool {
	if len(name) == 0 || !isNameStart(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if !isNameByte(name[i]) {
			return false
		}
	}
	return true
}

func (p *dotenvParser) eof() bool { return p.pos >= len(p.data) }

func (p *dotenvParser) skipBlanks() {
	for !p.eof() && isBlank(p.data[p.pos]) {
		p.pos++
	}
}

// skipLine moves past the rest of the current line and its newline.
func (p *dotenvParser) skipLine() {
	for !p.eof() && p.data[p.pos] != '\n' {
		p.pos++
	}
	if !p.eof() {
		p.pos++
		p.line++
	}
}

// estimateLines returns about how many lines data has: those of its
// first 64 KiB, in proportion to its length, with a margin. Counting
// them all would read the whole input once more before parsing it.
func estimateLines(data []byte) int {
	const sample = 64 << 10
	if len(data) <= sample {
		return bytes.Count(data, []byte{'\n'}) + 1
	}
	n := bytes.Count(data[:sample], []byte{'\n'}) + 1
	return n*(len(data)/sample+1) + n/8 + 1
}

// maxPresize bounds the assignments a parser makes room for before it
// has read them.
const maxPresize = 1 << 17

func (p *dotenvParser) parse() (lists, error) {
	for {
		if p.end > 0 && p.pos >= p.end {
			p.names.flush(p.out.names)
			return p.out, nil
		}
		p.skipBlanks()
		if p.eof() {
			p.names.flush(p.out.names)
			return p.out, nil
		}
		switch p.data[p.pos] {
		case '\n':
			p.pos++
			p.line++
			continue
		case '#':
			p.skipLine()
			continue
		}
		line := p.line
		nb, err := p.name()
		if err != nil {
			return lists{}, err
		}
		name := ""
		switch {
		case p.seen == nil && (p.out.len() == 0 || bytes.Compare(nb, p.prev) > 0):
			p.names.add(p.out.names, nb)
			p.prev = nb
		default:
			if p.seen == nil {
				p.names.flush(p.out.names)
				p.seen = make(map[string]int, p.presize)
				for i, n := range p.out.names {
					p.seen[n] = i
				}
			}
			name = string(nb)
			if first, dup := p.seen[name]; dup {
				return lists{}, p.errorf(line, "name %s given twice (first on line %d)", name, p.lineOf(first))
			}
			p.seen[name] = p.out.len()
		}
		value, err := p.value()
		if err != nil {
			return lists{}, err
		}
		p.out.names, p.out.values = append(p.out.names, name), append(p.out.values, value)
	}
}

// nameBufferSize is the size of the strings a nameBuffer makes.
const nameBufferSize = 64 << 10

// A nameBuffer gives the secrets parsed their names: a name added is
// copied into buf, and the secrets named in buf are given their names as
// pieces of one string once buf is full (or flush is called), not one
// string each.
type nameBuffer struct {
	buf   []byte
	ends  []int // where the names in buf end
	first int   // the index in out of the secret buf's first name names
}

// add adds name, the name of the secret out[len(out)] (appended next).
func (b *nameBuffer) add(out []string, name []byte) {
	if len(b.buf)+len(name) > nameBufferSize {
		b.flush(out)
	}
	if b.buf == nil {
		b.buf = make([]byte, 0, nameBufferSize)
	}
	if len(b.ends) == 0 {
		b.first = len(out)
	}
	b.buf = append(b.buf, name...)
	b.ends = append(b.ends, len(b.buf))
}

// flush gives the secrets named in buf their names, and empties buf.
func (b *nameBuffer) flush(out []string) {
	s, start := string(b.buf), 0
	for k, end := range b.ends {
		out[b.first+k] = s[start:end]
		start = end
	}
	b.buf, b.ends = b.buf[:0], b.ends[:0]
}

// lineOf returns the line of assignment k (from 0), reading the input
// again up to it: a duplicate's message names the line, and keeping every
// assignment's line for that would cost a list as long as the file.
func (p *dotenvParser) lineOf(k int) int {
	q := &dotenvParser{data: p.data, line: 1}
	for i := 0; ; {
		q.skipBlanks()
		if q.eof() {
			return 0
		}
		switch q.data[q.pos] {
		case '\n':
			q.pos++
			q.line++
			continue
		case '#':
			q.skipLine()
			continue
		}
		line := q.line
		if _, err := q.name(); err != nil {
			return 0
		}
		if i == k {
			return line
		}
		if _, err := q.value(); err != nil {
			return 0
		}
		i++
	}
}

// name reads [export ]NAME and the "=" after it, and returns NAME (in
// p.data).
func (p *dotenvParser) name() ([]byte, error) {
	if rest := p.data[p.pos:]; bytes.HasPrefix(rest, []byte("export")) && len(rest) > 6 && (rest[6] == ' ' || rest[6] == '\t') {
		p.pos += 6
		p.skipBlanks()
	}
	start := p.pos
	for !p.eof() && isNameByte(p.data[p.pos]) {
		p.pos++
	}
	name := p.data[start:p.pos]
	p.skipBlanks()
	if len(name) == 0 || p.eof() || p.data[p.pos] != '=' {
		// The line may be a stray piece of a value: do not quote it.
		return nil, p.errorf(p.line, "expected NAME=VALUE")
	}
	if !validDotenvName(name) {
		return nil, p.errorf(p.line, "invalid name: a name starts with a letter or '_' and has only letters, digits, '_', '.' and '-'")
	}
	p.pos++ // the "="
	return name, nil
}

// value reads the value after "=" up to and including the end of its line.
func (p *dotenvParser) value() ([]byte, error) {
	for !p.eof() && (p.data[p.pos] == ' ' || p.data[p.pos] == '\t') {
		p.pos++
	}
	if p.eof() {
		return []byte{}, nil
	}
	switch p.data[p.pos] {
	case '\'':
		return p.singleQuoted()
	case '"':
		return p.doubleQuoted()
	}
	start := p.pos
	line := p.data[start:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	end := start + len(line)
	// A "#" after a blank starts a comment.
	for off := 0; ; {
		i := bytes.IndexByte(line[off:], '#')
		if i < 0 {
			break
		}
		if c := p.data[start+off+i-1]; c == ' ' || c == '\t' {
			end = start + off + i
			break
		}
		off += i + 1
	}
	for end > start && isBlank(p.data[end-1]) {
		end--
	}
	v := p.data[start:end]
	p.pos = end
	p.skipLine()
	return v[:len(v):len(v)], nil
}

func (p *dotenvParser) singleQuoted() ([]byte, error) {
	open := p.line
	p.pos++
	i := bytes.IndexByte(p.data[p.pos:], '\'')
	if i < 0 {
		return nil, p.errorf(open, "single quote opened here is never closed")
	}
	v := p.data[p.pos : p.pos+i : p.pos+i]
	p.line += bytes.Count(v, []byte{'\n'})
	p.pos += i + 1
	return v, p.afterQuote()
}

func (p *dotenvParser) doubleQuoted() ([]byte, error) {
	open := p.line
	p.pos++
	v := []byte{}
	for {
		if p.eof() {
			return nil, p.errorf(open, "double quote opened here is never closed")
		}
		c := p.data[p.pos]
		p.pos++
		switch c {
		case '"':
			return v, p.afterQuote()
		case '\n':
			p.line++
			v = append(v, c)
		case '\\':
			b, err := p.escape()
			if err != nil {
				return nil, err
			}
			v = append(v, b)
		default:
			v = append(v, c)
		}
	}
}

// escape decodes the escape sequence after a backslash.
func (p *dotenvParser) escape() (byte, error) {
	bad := func() (byte, error) {
		return 0, p.errorf(p.line, "unsupported escape sequence in a double-quoted value (supported: \\n \\r \\t \\\" \\\\ \\$ \\' \\` \\xHH); use single quotes for a literal backslash")
	}
	if p.eof() {
		return bad()
	}
	c := p.data[p.pos]
	p.pos++
	switch c {
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case '"', '\\', '$', '\'', '`':
		return c, nil
	case 'x':
		if p.pos+2 > len(p.data) {
			return bad()
		}
		hi, ok1 := unhex(p.data[p.pos])
		lo, ok2 := unhex(p.data[p.pos+1])
		if !ok1 || !ok2 {
			return bad()
		}
		p.pos += 2
		return hi<<4 | lo, nil
	}
	return bad()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// afterQuote accepts blanks and a comment after a closing quote.
func (p *dotenvParser) afterQuote() error {
	p.skipBlanks()
	if p.eof() {
		return nil
	}
	switch p.data[p.pos] {
	case '\n', '#':
		p.skipLine()
		return nil
	}
	return p.errorf(p.line, "unexpected text after a closing quote")
}
