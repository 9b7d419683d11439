package formats

import (
	"bytes"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// WriteDotenv writes secrets as a dotenv file, one NAME=VALUE per secret in
// the order given, that [ParseDotenv] reads back byte for byte and that the
// programs people feed a .env file to read exactly wherever an encoding
// allows it: docker compose (compose-go), godotenv, npm dotenv,
// python-dotenv, systemd's EnvironmentFile= and `set -a; . FILE` in bash.
//
// They disagree on quotes and escapes, so each value is written in the
// encoding that the most of them read exactly, among:
//
//   - 'single quotes', literal everywhere; the choice for almost every
//     value that has no single quote in it;
//   - "double quotes" with \" \\ \$ (and \` or \r where that is read by
//     more of them) escaped and everything else, newlines and tabs
//     included, written as it is: for values with a single quote, a CR
//     line ending or a trailing backslash that single quotes cannot hold.
//     After a value that ends in a backslash comes a comment line that
//     ends in a double quote: the readers that take the final \" for an
//     escaped quote end the value there, and misread only that value;
//   - unquoted, for a value ending in a backslash made only of characters
//     no reader treats specially, followed by a blank line (for systemd
//     and bash, which read the backslash as a line continuation).
//
// An encoding that makes a reader refuse the whole file, lose a value
// other than this one, or run part of the value as a command in bash is
// chosen only when every other one does worse on that count. docs/CLI.md
// lists, per reader, the values it still misreads.
//
// No common reader holds a NUL byte or bytes that are not UTF-8 (systemd
// refuses the whole file, the others garble the value), so such a secret
// is left out, as is a secret whose name is not a dotenv name (see
// ParseDotenv); the others are written and a *SkipError lists what was
// left out. The same name given twice is an error, and nothing is written.
func WriteDotenv(w io.Writer, secrets []Secret) error {
	if err := checkDuplicates("export", secrets); err != nil {
		return err
	}
	var b bytes.Buffer
	skip := &SkipError{Format: "dotenv"}
	for _, s := range secrets {
		switch {
		case !validDotenvName(s.Name):
			skip.Skipped = append(skip.Skipped, Skip{s.Name, "not a dotenv name"})
			continue
		case bytes.IndexByte(s.Value, 0) >= 0:
			skip.Skipped = append(skip.Skipped, Skip{s.Name, "value contains a NUL byte, which no common dotenv reader holds"})
			continue
		case !utf8.Valid(s.Value):
			skip.Skipped = append(skip.Skipped, Skip{s.Name, "value is not valid UTF-8, which no common dotenv reader holds"})
			continue
		}
		b.WriteString(s.Name)
		b.WriteByte('=')
		writeDotenvValue(&b, s.Value)
		b.WriteByte('\n')
	}
	return finishExport(w, &b, skip)
}

// The readers WriteDotenv writes for.
const (
	readerCompose = iota
	readerGodotenv
	readerNPM
	readerPython
	readerSystemd
	readerBash
	numReaders
)

// How a reader fares with one encoding of a value.
type readResult int

const (
	readExact   readResult = iota
	readWrong              // this value is misread
	readHarmful            // the whole file is refused, another value is lost, or bash runs a command
)

// dotenvEncoding is one way to write a value.
type dotenvEncoding struct {
	quote byte // '\'', '"' or 0 (unquoted)
	escCR bool // in double quotes: CR as \r rather than raw
	escBT bool // in double quotes: backtick as \` rather than raw
}

// dotenvEncodings are the candidates, in the order ties are broken.
var dotenvEncodings = []dotenvEncoding{
	{quote: '\''},
	{quote: '"', escCR: true, escBT: true},
	{quote: '"', escCR: true},
	{quote: '"', escBT: true},
	{quote: '"'},
	{quote: 0},
}

// valueTraits are the properties of a value the readers differ on.
type valueTraits struct {
	singleQuote, doubleQuote, backslash, doubleBackslash bool
	endsBackslash, endsDoubleQuote                       bool
	dollar, dollarBrace, backtick, cr, crlf              bool
	unquotable                                           bool // can be written unquoted at all
	shellWord                                            bool // bash and systemd read it unquoted as it is
}

func traitsOf(v []byte) valueTraits {
	s := string(v)
	t := valueTraits{
		singleQuote:     strings.Contains(s, "'"),
		doubleQuote:     strings.Contains(s, `"`),
		backslash:       strings.Contains(s, `\`),
		doubleBackslash: strings.Contains(s, `\\`),
		endsBackslash:   strings.HasSuffix(s, `\`),
		endsDoubleQuote: strings.HasSuffix(s, `"`),
		dollar:          strings.Contains(s, "$"),
		dollarBrace:     strings.Contains(s, "${"),
		backtick:        strings.Contains(s, "`"),
		cr:              strings.Contains(s, "\r"),
		crlf:            strings.Contains(s, "\r\n"),
	}
	// Unquoted, only characters that no reader (bash above all) treats
	// specially, and no blank at either end, which they trim.
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	t.unquotable = s != "" && !unicode.IsSpace(first) && !unicode.IsSpace(last) &&
		strings.IndexFunc(s, func(r rune) bool { return !unquotedRune(r) }) < 0
	t.shellWord = t.unquotable && !t.backslash
	return t
}

func unquotedRune(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return true
	case r >= utf8.RuneSelf:
		return unicode.IsGraphic(r) && !unicode.IsSpace(r)
	}
	return strings.ContainsRune(`_./:@%+,=-\`, r)
}

// read says how reader r reads the value with traits t written in
// encoding e. The rules come from each reader's parser; the test in
// internal/dotenvcheck runs the real ones.
func (t valueTraits) read(e dotenvEncoding, r int) readResult {
	wrong := func(bad bool) readResult {
		if bad {
			return readWrong
		}
		return readExact
	}
	switch e.quote {
	case '\'': // literal everywhere; callers rule out a single quote inside
		switch r {
		case readerCompose, readerGodotenv, readerNPM, readerPython:
			// They take \' as an escaped quote: a value ending in a
			// backslash never ends.
			if t.endsBackslash {
				return readHarmful
			}
		}
		switch r {
		case readerGodotenv:
			return wrong(t.crlf) // CRLF becomes LF before parsing
		case readerNPM:
			return wrong(t.cr) // CR and CRLF become LF
		case readerPython:
			// \\ is an escape even in single quotes, ${...} is
			// interpolated, and the file is read with universal newlines.
			return wrong(t.doubleBackslash || t.dollarBrace || t.cr)
		}
		return readExact
	case '"':
		switch r {
		case readerCompose:
			return wrong(t.backtick && e.escBT) // \` is kept as it is
		case readerGodotenv:
			// A value ending in a backslash reads as \" and runs on to
			// the guard line's quote (see writeDotenvValue). Every " at
			// either end is trimmed.
			return wrong(t.endsBackslash || t.endsDoubleQuote || t.crlf && !e.escCR)
		case readerNPM:
			// Only \n and \r are escapes; \" \\ \$ \` are kept as they are.
			return wrong(t.doubleQuote || t.backslash || t.dollar || t.backtick && e.escBT || t.cr && !e.escCR)
		case readerPython:
			// \$ and \` are not escapes; universal newlines; the guard line.
			return wrong(t.endsBackslash || t.dollar || t.backtick && e.escBT || t.cr && !e.escCR)
		case readerSystemd:
			return wrong(t.cr && e.escCR) // \r is not an escape
		case readerBash:
			if t.backtick && !e.escBT {
				return readHarmful // command substitution
			}
			return wrong(t.cr && e.escCR)
		}
	default:
		switch r {
		case readerSystemd, readerBash:
			// A backslash escapes the next character, and a trailing one
			// continues the line: the blank line written after it stops
			// that from taking the next assignment.
			return wrong(!t.shellWord)
		}
		return readExact
	}
	return readExact
}

// chooseEncoding returns the candidate with the fewest harmful reads, then
// the most exact ones, then the first in dotenvEncodings.
func chooseEncoding(t valueTraits) dotenvEncoding {
	var best dotenvEncoding
	bestHarm, bestExact := numReaders+1, -1
	for _, e := range dotenvEncodings {
		if e.quote == '\'' && t.singleQuote || e.quote == 0 && !t.unquotable {
			continue
		}
		harm, exact := 0, 0
		for r := range numReaders {
			switch t.read(e, r) {
			case readExact:
				exact++
			case readHarmful:
				harm++
			}
		}
		if harm < bestHarm || harm == bestHarm && exact > bestExact {
			best, bestHarm, bestExact = e, harm, exact
		}
	}
	return best
}

// dotenvGuard is the comment line written after a double-quoted value
// that ends in a backslash.
const dotenvGuard = `# the value above ends in a backslash "`

// writeDotenvValue writes v, which is valid UTF-8 without a NUL, in the
// encoding chooseEncoding picks.
func writeDotenvValue(b *bytes.Buffer, v []byte) {
	t := traitsOf(v)
	e := chooseEncoding(t)
	switch e.quote {
	case '\'':
		b.WriteByte('\'')
		b.Write(v)
		b.WriteByte('\'')
	case '"':
		b.WriteByte('"')
		for _, c := range v {
			switch {
			case c == '"' || c == '\\' || c == '$' || c == '`' && e.escBT:
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\r' && e.escCR:
				b.WriteString(`\r`)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
		if t.endsBackslash {
			// godotenv, python-dotenv and npm dotenv take the final \"
			// for an escaped quote and read on to the next quote in the
			// file: give them one at the end of a comment line, so that
			// they misread this value only, not the file.
			b.WriteString("\n" + dotenvGuard)
		}
	default:
		b.Write(v)
		if t.endsBackslash {
			b.WriteByte('\n') // see read: a blank line ends the continuation
		}
	}
}
