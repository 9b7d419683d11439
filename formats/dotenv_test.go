package formats

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// sec builds an expected secret list from name, value pairs.
func sec(kv ...string) []Secret {
	var s []Secret
	for i := 0; i < len(kv); i += 2 {
		s = append(s, Secret{Name: kv[i], Value: []byte(kv[i+1])})
	}
	return s
}

func equalSecrets(a, b []Secret) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func TestParseDotenv(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []Secret
	}{
		{"plain", "A=1", sec("A", "1")},
		{"order kept", "B=2\nA=1\n", sec("B", "2", "A", "1")},
		{"export", "export A=1", sec("A", "1")},
		{"export with tabs", "export\t\tA=1", sec("A", "1")},
		{"a name that is the word export", "export=1", sec("export", "1")},
		{"a name that starts with export", "exportX=1\nexport exporter=2", sec("exportX", "1", "exporter", "2")},
		{"blanks around =", "  A \t=  1  ", sec("A", "1")},
		{"empty", "A=", sec("A", "")},
		{"empty with blanks", "A=   ", sec("A", "")},
		{"empty single", "A=''", sec("A", "")},
		{"empty double", `A=""`, sec("A", "")},
		{"comments and blank lines", "# c\n\n   \n\t# indented\nA=1\n#\n", sec("A", "1")},
		{"hash inside a word is the value", "A=a#b", sec("A", "a#b")},
		{"hash after a blank is a comment", "A=a #b", sec("A", "a")},
		{"hash after a tab is a comment", "A=a\t#b", sec("A", "a")},
		{"only a comment", "A= #b", sec("A", "")},
		{"hash first is the value", "A=#b", sec("A", "#b")},
		{"unquoted keeps inner blanks and quotes", "A=a b 'c' \"d\"", sec("A", `a b 'c' "d"`)},
		{"unquoted backslashes are literal", `A=C:\n\x`, sec("A", `C:\n\x`)},
		{"unquoted equals", "A=a=b", sec("A", "a=b")},
		{"single is literal", `A='$HOME \n \x41 "q" #h \'`, sec("A", `$HOME \n \x41 "q" #h \`)},
		{"single keeps blanks", "A='  x  '", sec("A", "  x  ")},
		{"single spans lines", "A='a\n\nb\n'\nB=2", sec("A", "a\n\nb\n", "B", "2")},
		{"single then comment", "A='x' # c", sec("A", "x")},
		{"single then comment without blank", "A='x'#c", sec("A", "x")},
		{"double escapes", `A="\n\r\t\"\\\$\'"`, sec("A", "\n\r\t\"\\$'")},
		{"double backtick escape", "A=\"\\`x\\`\"", sec("A", "`x`")},
		{"double hex escapes", `A="\x00\xff\xFe\x41"`, sec("A", "\x00\xff\xfeA")},
		{"double dollar is literal", `A="$HOME ${X}"`, sec("A", "$HOME ${X}")},
		{"double spans lines", "A=\"a\n  b # no comment\n\"", sec("A", "a\n  b # no comment\n")},
		{"double then comment", `A="x" # c`, sec("A", "x")},
		{"double single quote", `A="it's"`, sec("A", "it's")},
		{"dotted and dashed names", "a.b-c_D=1\n_x=2", sec("a.b-c_D", "1", "_x", "2")},
		{"crlf", "A=1\r\nB='2'\r\nC=\"3\"\r\n", sec("A", "1", "B", "2", "C", "3")},
		{"crlf inside quotes is kept", "A='x\r\ny'", sec("A", "x\r\ny")},
		{"byte order mark", "\xef\xbb\xbfA=1", sec("A", "1")},
		{"raw bytes unquoted and single", "A=\xff\xfe\nB='\x00\x01'", sec("A", "\xff\xfe", "B", "\x00\x01")},
		{"no final newline", "A='x'", sec("A", "x")},
		{"empty input", "", nil},
	} {
		got, err := ParseDotenv(strings.NewReader(tc.in))
		if err != nil || !equalSecrets(got, tc.want) {
			t.Errorf("%s: ParseDotenv(%q) = %q, %v; want %q", tc.name, tc.in, got, err, tc.want)
		}
	}
}

// malformedDotenv are inputs ParseDotenv refuses, with the line it must
// name. Values contain "SECRET" so the test can check that no error
// quotes them.
var malformedDotenv = []struct {
	name, in string
	line     int
	reason   string
}{
	{"no equals", "SECRETVALUE", 1, "expected NAME=VALUE"},
	{"no equals on a later line", "A=1\n\nSECRET value", 3, "expected NAME=VALUE"},
	{"no name", "=SECRET", 1, "expected NAME=VALUE"},
	{"name starts with a digit", "1A=SECRET", 1, "invalid name"},
	{"name with a blank", "A B=SECRET", 1, "expected NAME=VALUE"},
	{"name with other characters", "A/B=SECRET", 1, "expected NAME=VALUE"},
	{"non-ASCII name", "\xc3\x84B=SECRET", 1, "expected NAME=VALUE"},
	{"export without assignment", "export SECRET", 1, "expected NAME=VALUE"},
	{"unterminated single", "A=1\nB='SECRET\nmore", 2, "single quote"},
	{"unterminated double", "A=\"SECRET\n", 1, "double quote"},
	{"unknown escape", "A=1\nB=\"a\nSECRET\\q\"", 3, "escape"},
	{"short hex escape", `A="SECRET\x4"`, 1, "escape"},
	{"bad hex escape", `A="SECRET\xZZ"`, 1, "escape"},
	{"escape at the end", `A="SECRET\`, 1, "escape"},
	{"text after single", "A='SECRET' more", 1, "after a closing quote"},
	{"text after double", `A="SECRET"more`, 1, "after a closing quote"},
	{"duplicate", "A=SECRET1\nA=SECRET2", 2, "given twice (first on line 1)"},
	{"duplicate after a multi-line value", "A=1\nB='SECRET\nline'\nA=3", 4, "given twice (first on line 1)"},
	// The names in order, then one out of it: the parser's record of the
	// names so far must hold each line.
	{"duplicate after names in order", "A=1\n\nB=2\nC=3\nB=SECRET", 5, "given twice (first on line 3)"},
	{"duplicate after names out of order", "B=1\nA=2\nC=3\nA=SECRET", 4, "given twice (first on line 2)"},
}

func TestParseDotenvMalformed(t *testing.T) {
	for _, tc := range malformedDotenv {
		got, err := ParseDotenv(strings.NewReader(tc.in))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: ParseDotenv(%q) = %q, %v; want a *ParseError", tc.name, tc.in, got, err)
			continue
		}
		if pe.Line != tc.line || pe.Format != "dotenv" || !strings.Contains(pe.Reason, tc.reason) {
			t.Errorf("%s: error %q (line %d); want line %d and %q", tc.name, err, pe.Line, tc.line, tc.reason)
		}
		if strings.Contains(err.Error(), "SECRET") || got != nil {
			t.Errorf("%s: error %q or result %q shows a value", tc.name, err, got)
		}
	}
}

func TestWriteDotenv(t *testing.T) {
	in := sec(
		"PLAIN", "hello",
		"EMPTY", "",
		"SPACES", "  a b  ",
		"MULTI", "line1\nline2\n",
		"TAB", "a\tb",
		"DOLLAR", "$HOME `x` \\ \"dq\" #h ${Y}",
		"QUOTE", "it's",
		"QUOTE_ALL", "'\"\\$\n\t\x7f",
		"QUOTE_TICK", "it's `x`",
		"CR", "a\rb",
		"CRLF", "a\r\nb",
		"QUOTE_CRLF", "it's\r\n",
		"TRAILING_BACKSLASH", `C:\dir\`,
		"TRAILING_BACKSLASH_SPACE", `a b\`,
		"UNICODE", "h\u00e9 \u2713",
	)
	var b bytes.Buffer
	if err := WriteDotenv(&b, in); err != nil {
		t.Fatal(err)
	}
	want := `PLAIN='hello'
EMPTY=''
SPACES='  a b  '
MULTI='line1
line2
'
TAB='a` + "\t" + `b'
DOLLAR='$HOME ` + "`x`" + ` \ "dq" #h ${Y}'
QUOTE="it's"
QUOTE_ALL="'\"\\\$
` + "\t\x7f" + `"
QUOTE_TICK="it's \` + "`x\\`" + `"
CR='a` + "\r" + `b'
CRLF="a\r
b"
QUOTE_CRLF="it's\r
"
TRAILING_BACKSLASH=C:\dir\

TRAILING_BACKSLASH_SPACE="a b\\"
# the value above ends in a backslash "
UNICODE='h` + "\u00e9 \u2713" + `'
`
	if b.String() != want {
		t.Errorf("WriteDotenv wrote\n%s\nwant\n%s", b.String(), want)
	}
	back, err := ParseDotenv(&b)
	if err != nil || !equalSecrets(back, in) {
		t.Errorf("round trip = %q, %v; want %q", back, err, in)
	}
}

// A NUL byte or bytes that are not UTF-8 are left out: no common reader
// holds them.
func TestWriteDotenvLeavesOutWhatNoReaderHolds(t *testing.T) {
	var b bytes.Buffer
	err := WriteDotenv(&b, sec("OK", "1", "NUL", "a\x00b", "BINARY", "ok\xff\xfe", "LAST", "2"))
	var se *SkipError
	if !errors.As(err, &se) || len(se.Skipped) != 2 || se.Skipped[0].Name != "NUL" || se.Skipped[1].Name != "BINARY" ||
		!strings.Contains(se.Skipped[0].Reason, "NUL") || !strings.Contains(se.Skipped[1].Reason, "UTF-8") {
		t.Fatalf("WriteDotenv = %v; want a SkipError for NUL and BINARY", err)
	}
	if b.String() != "OK='1'\nLAST='2'\n" {
		t.Errorf("wrote %q", b.String())
	}
}

func TestWriteDotenvSkips(t *testing.T) {
	var b bytes.Buffer
	err := WriteDotenv(&b, sec("OK", "1", "has/slash", "2", "9LIVES", "3", "ALSO_OK", "4"))
	var se *SkipError
	if !errors.As(err, &se) || !errors.Is(err, ErrSkipped) || len(se.Skipped) != 2 ||
		se.Skipped[0].Name != "has/slash" || se.Skipped[1].Name != "9LIVES" {
		t.Fatalf("WriteDotenv = %v; want a SkipError for has/slash and 9LIVES", err)
	}
	if b.String() != "OK='1'\nALSO_OK='4'\n" {
		t.Errorf("the representable secrets were not all written: %q", b.String())
	}
	b.Reset()
	if err := WriteDotenv(&b, sec("A", "1", "A", "2")); err == nil || b.Len() != 0 {
		t.Errorf("duplicate names: %v, wrote %q", err, b.String())
	}
}

// ParseDotenvBytes reads what ParseDotenv reads, in place: its values are
// slices of the input, not copies.
func TestParseDotenvBytes(t *testing.T) {
	in := []byte("B=plain # c\nA='single'\nC=\"dq\\n\"\n")
	want, err := ParseDotenv(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseDotenvBytes(in)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseDotenvBytes = %q, %v; want %q", got, err, want)
	}
	if &got[0].Value[0] != &in[2] || cap(got[0].Value) != len("plain") {
		t.Error("an unquoted value is not a slice of the input, capped at its length")
	}
	for _, bad := range malformedDotenv {
		if _, err := ParseDotenvBytes([]byte(bad.in)); err == nil {
			t.Errorf("%s: no error", bad.name)
		}
	}
}

// A long file's names, in order and then out of it, are each its own:
// the names are made strings a buffer at a time while they come in
// order, and one a name after; a name given twice is still found, and
// its first line named.
func TestParseDotenvManyNames(t *testing.T) {
	var b strings.Builder
	var want []string
	add := func(name string) {
		b.WriteString(name + "=v_" + name + "\n")
		want = append(want, name)
	}
	for i := range 12000 { // about 200 KiB of names: several buffers
		add(fmt.Sprintf("N%07d", i))
	}
	add("A_OUT_OF_ORDER")
	add("Z_AFTER")
	got, err := ParseDotenvBytes([]byte(b.String()))
	if err != nil || len(got) != len(want) {
		t.Fatalf("parse = %d secrets, %v; want %d", len(got), err, len(want))
	}
	for i, s := range got {
		if s.Name != want[i] || string(s.Value) != "v_"+want[i] {
			t.Fatalf("secret %d = %s=%s, want %s=v_%s", i, s.Name, s.Value, want[i], want[i])
		}
	}
	b.WriteString("N0011999=again\n") // in the last buffer
	_, err = ParseDotenvBytes([]byte(b.String()))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != len(want)+1 || !strings.Contains(pe.Reason, "N0011999 given twice (first on line 12000)") {
		t.Errorf("a name given twice after many = %v", err)
	}
}
