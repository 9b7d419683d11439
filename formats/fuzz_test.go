package formats

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// fixtureSeeds returns every file in fixtures/import, failing if there is
// none: a fuzzer without its seeds would pass while testing little.
func fixtureSeeds(f *testing.F) map[string][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "*"))
	if err != nil {
		f.Fatal(err)
	}
	seeds := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		seeds[filepath.Base(p)] = b
	}
	if _, ok := seeds["every-case.env"]; !ok {
		f.Fatalf("no dotenv seed in %s", fixtureDir)
	}
	return seeds
}

// encodeSecrets and decodeSecrets turn a list of secrets into the fuzzer's
// byte string and back: per secret a name length byte, the name, a
// two-byte value length and the value; a short tail is taken as it is.
func encodeSecrets(s []Secret) []byte {
	var b []byte
	for _, e := range s {
		b = append(b, byte(len(e.Name)))
		b = append(b, e.Name...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(e.Value)))
		b = append(b, e.Value...)
	}
	return b
}

func decodeSecrets(b []byte) map[string][]byte {
	m := map[string][]byte{}
	take := func(n int) []byte {
		n = min(n, len(b))
		x := b[:n]
		b = b[n:]
		return x
	}
	for len(b) > 0 {
		name := fuzzName(take(int(take(1)[0])))
		var n int
		if l := take(2); len(l) == 2 {
			n = int(binary.BigEndian.Uint16(l))
		}
		m[name] = bytes.Clone(take(n))
	}
	return m
}

// fuzzName makes any bytes a valid dotenv name: it keeps the name bytes
// and puts "_" in front of a name that does not start as a name must.
func fuzzName(b []byte) string {
	var n []byte
	for _, c := range b {
		if isNameByte(c) {
			n = append(n, c)
		}
	}
	if len(n) == 0 || !isNameStart(n[0]) {
		n = append([]byte{'_'}, n...)
	}
	return string(n)
}

// checkDotenvWrite writes secrets with WriteDotenv and returns the ones
// written, failing t unless exactly those with a NUL byte or bytes that
// are not UTF-8 were left out.
func checkDotenvWrite(t *testing.T, b *bytes.Buffer, secrets []Secret) []Secret {
	t.Helper()
	var want []Secret
	left := map[string]bool{}
	for _, s := range secrets {
		if bytes.IndexByte(s.Value, 0) >= 0 || !utf8.Valid(s.Value) {
			left[s.Name] = true
		} else {
			want = append(want, s)
		}
	}
	err := WriteDotenv(b, secrets)
	var se *SkipError
	switch {
	case len(left) == 0 && err != nil:
		t.Fatalf("WriteDotenv: %v", err)
	case len(left) > 0 && (!errors.As(err, &se) || len(se.Skipped) != len(left)):
		t.Fatalf("WriteDotenv = %v; want %d secret(s) left out", err, len(left))
	case se != nil:
		for _, s := range se.Skipped {
			if !left[s.Name] {
				t.Fatalf("WriteDotenv left out %q, which it can write", s.Name)
			}
		}
	}
	return want
}

// FuzzDotenvRoundTrip: any map of valid names to byte values written by
// WriteDotenv is read back by ParseDotenv identically, but for the values
// no common reader holds (a NUL byte, bytes that are not UTF-8), which are
// left out.
func FuzzDotenvRoundTrip(f *testing.F) {
	for name, data := range fixtureSeeds(f) {
		var s []Secret
		var err error
		switch filepath.Ext(name) {
		case ".env":
			s, err = ParseDotenv(bytes.NewReader(data))
		case ".json":
			s, err = ParseJSON(bytes.NewReader(data))
		default:
			s = []Secret{{Name: "RAW", Value: data}} // binary bytes as a value
		}
		if err != nil {
			f.Fatalf("seed %s: %v", name, err)
		}
		f.Add(encodeSecrets(s))
	}
	for _, v := range shellValues {
		f.Add(encodeSecrets([]Secret{{"A", []byte(v)}, {"export", []byte(v + "'")}}))
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		in := decodeSecrets(blob)
		var secrets []Secret
		for n, v := range in {
			secrets = append(secrets, Secret{n, v})
		}
		var b bytes.Buffer
		secrets = checkDotenvWrite(t, &b, secrets)
		out, err := ParseDotenv(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("ParseDotenv of WriteDotenv output: %v\n%q", err, b.String())
		}
		if len(out) != len(secrets) {
			t.Fatalf("wrote %d secrets, read %d back\n%q", len(secrets), len(out), b.String())
		}
		for i := range out {
			if out[i].Name != secrets[i].Name || !bytes.Equal(out[i].Value, secrets[i].Value) {
				t.Fatalf("secret %d: wrote %q=%q, read %q=%q", i, secrets[i].Name, secrets[i].Value, out[i].Name, out[i].Value)
			}
		}
	})
}

// FuzzParseDotenv: any input either fails with a *ParseError giving a
// line, or parses to valid, distinct names that export and re-import
// identically.
func FuzzParseDotenv(f *testing.F) {
	for _, data := range fixtureSeeds(f) {
		f.Add(data)
	}
	for _, tc := range malformedDotenv {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseDotenv(bytes.NewReader(data))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Line > bytes.Count(data, []byte{'\n'})+1 {
				t.Fatalf("error %v: not a *ParseError with a line in the input", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range s {
			if !validDotenvName(e.Name) || seen[e.Name] {
				t.Fatalf("parsed an invalid or repeated name %q", e.Name)
			}
			seen[e.Name] = true
		}
		var b bytes.Buffer
		s = checkDotenvWrite(t, &b, s)
		back, err := ParseDotenv(&b)
		if err != nil || !equalSecrets(back, s) {
			t.Fatalf("re-import differs: %v", err)
		}
	})
}
