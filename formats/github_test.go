package formats

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// parseGitHubEnv reads a $GITHUB_ENV file as the runner documents it:
// NAME=VALUE on one line, or NAME<<DELIMITER, the value's lines, and a
// line that is exactly DELIMITER.
func parseGitHubEnv(t *testing.T, data string) []Secret {
	t.Helper()
	var out []Secret
	lines := strings.Split(strings.TrimSuffix(data, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			t.Fatalf("line %d: %q is not NAME<<DELIMITER", i+1, lines[i])
		}
		var value []string
		for i++; ; i++ {
			if i == len(lines) {
				t.Fatalf("delimiter %q never closed", delim)
			}
			if lines[i] == delim {
				break
			}
			value = append(value, lines[i])
		}
		out = append(out, Secret{Name: name, Value: []byte(strings.Join(value, "\n"))})
	}
	return out
}

// unmask reads the ::add-mask:: commands back, unescaped as the runner
// does.
func unmask(t *testing.T, data string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
		m, ok := strings.CutPrefix(l, "::add-mask::")
		if !ok {
			t.Fatalf("%q is not an add-mask command", l)
		}
		out = append(out, strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(m))
	}
	return out
}

func TestWriteGitHub(t *testing.T) {
	in := sec(
		"PLAIN", "hello",
		"EMPTY", "",
		// Every delimiter a careless writer might pick, as lines.
		"MULTI", "line one\nEOF\nghadelimiter_\nMULTI<<EOF\n\n  \n100% done %0A\r\nlast\n",
		"CR", "a\rb",
	)
	var masks, env bytes.Buffer
	if err := WriteGitHub(&masks, &env, in); err != nil {
		t.Fatal(err)
	}
	if got := parseGitHubEnv(t, env.String()); !equalSecrets(got, in) {
		t.Errorf("$GITHUB_ENV reads back as %q; want %q\n%s", got, in, env.String())
	}
	want := []string{"hello", "line one", "EOF", "ghadelimiter_", "MULTI<<EOF", "100% done %0A", "last", "a", "b"}
	if got := unmask(t, masks.String()); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("masks %q; want %q", got, want)
	}
	if !strings.Contains(masks.String(), "::add-mask::100%25 done %250A\n") {
		t.Errorf("%% not escaped in masks:\n%s", masks.String())
	}
	// Each secret gets its own delimiter.
	if strings.Count(env.String(), "<<ghadelimiter_") != len(in) {
		t.Errorf("delimiters:\n%s", env.String())
	}
}

// fixedBytes yields bytes of value b: the first delimiter tried from it is
// ghadelimiter_0000..., the next (from ones) ghadelimiter_0101...
type fixedBytes byte

func (b fixedBytes) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// A value that contains the delimiter drawn gets another one.
func TestWriteGitHubDelimiterNotInValue(t *testing.T) {
	first := "ghadelimiter_" + strings.Repeat("00", 16)
	in := sec("A", "x\n"+first+"\ny")
	var masks, env bytes.Buffer
	var calls int
	random := readerFunc(func(p []byte) (int, error) {
		calls++
		return fixedBytes(calls - 1).Read(p)
	})
	if err := writeGitHub(&masks, &env, in, random); err != nil {
		t.Fatal(err)
	}
	if want := "A<<ghadelimiter_" + strings.Repeat("01", 16) + "\n"; !strings.HasPrefix(env.String(), want) {
		t.Errorf("env starts %q; want %q", env.String(), want)
	}
	if got := parseGitHubEnv(t, env.String()); !equalSecrets(got, in) {
		t.Errorf("reads back as %q", got)
	}
	// A source that only ever gives the value's delimiter: an error.
	env.Reset()
	if err := writeGitHub(&masks, &env, in, fixedBytes(0)); err == nil || env.Len() != 0 {
		t.Errorf("no usable delimiter: %v, wrote %q", err, env.String())
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestWriteGitHubSkips(t *testing.T) {
	var masks, env bytes.Buffer
	err := WriteGitHub(&masks, &env, sec("OK", "1", "a.b", "2", "NUL", "x\x00y", "BIN", "\xff", "LAST", "3"))
	var se *SkipError
	if !errors.As(err, &se) || len(se.Skipped) != 3 || se.Skipped[0].Name != "a.b" || se.Skipped[1].Name != "NUL" || se.Skipped[2].Name != "BIN" {
		t.Fatalf("WriteGitHub = %v; want a SkipError for a.b, NUL and BIN", err)
	}
	if got := parseGitHubEnv(t, env.String()); !equalSecrets(got, sec("OK", "1", "LAST", "3")) {
		t.Errorf("wrote %q", got)
	}
	if strings.Contains(masks.String(), "x") {
		t.Errorf("masked a value that was left out: %q", masks.String())
	}
}
