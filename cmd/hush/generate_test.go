package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/store"
)

// cycleReader returns the bytes 0, 1, ..., 255, 0, 1, ... forever.
type cycleReader struct{ next byte }

func (c *cycleReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.next
		c.next++
	}
	return len(p), nil
}

// TestRandomStringNoModuloBias feeds every byte value equally often: an
// unbiased draw then yields every symbol exactly equally often, where
// reducing bytes modulo 62 would favour the first 8 symbols of alnum.
func TestRandomStringNoModuloBias(t *testing.T) {
	for name, cs := range charsets {
		k := len(cs)
		perCycle := 256 / k // symbols one cycle of 256 bytes yields, without bias
		n := perCycle * k * 10
		out, err := randomString(&cycleReader{}, cs, n)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[byte]int{}
		for _, c := range out {
			counts[c]++
		}
		for i := 0; i < k; i++ {
			if counts[cs[i]] != n/k {
				t.Errorf("%s: symbol %q drawn %d times of %d, want exactly %d", name, cs[i], counts[cs[i]], n, n/k)
				break
			}
		}
	}
}

// TestRandomStringDistribution draws from crypto/rand: every symbol of
// every charset appears, and none far more or less often than the others
// (the bounds are over 7 standard deviations away).
func TestRandomStringDistribution(t *testing.T) {
	for name, cs := range charsets {
		const mean = 200
		out, err := randomString(rand.Reader, cs, mean*len(cs))
		if err != nil {
			t.Fatal(err)
		}
		counts := map[byte]int{}
		for _, c := range out {
			if strings.IndexByte(cs, c) < 0 {
				t.Fatalf("%s: %q is not in the charset", name, c)
			}
			counts[c]++
		}
		for i := 0; i < len(cs); i++ {
			if c := counts[cs[i]]; c < mean/2 || c > mean*3/2 {
				t.Errorf("%s: symbol %q drawn %d times, expected about %d", name, cs[i], c, mean)
			}
		}
	}
	if len(charsets["ascii"]) != 94 || strings.ContainsAny(charsets["ascii"], " \t\n") {
		t.Errorf("ascii is %q, want the 94 printable characters without space", charsets["ascii"])
	}
}

// TestGenerate checks the stored value's length and charset, --print,
// --if-missing, and the usage errors for bad lengths and charsets.
func TestGenerate(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	var out bytes.Buffer
	for _, tc := range []struct {
		charset string
		length  int
		re      string
	}{
		{"", 32, "^[A-Za-z0-9]{32}$"},
		{"alnum", 1, "^[A-Za-z0-9]$"},
		{"hex", 64, "^[0-9a-f]{64}$"},
		{"base64url", 43, "^[A-Za-z0-9_-]{43}$"},
		{"ascii", 300, "^[!-~]{300}$"},
	} {
		o := generateOptions{Name: "K_" + tc.charset, Length: tc.length, Charset: tc.charset}
		if o.Charset == "" {
			o.Charset = "alnum" // the flag's default
		}
		out.Reset()
		if _, err := runGenerate(ctx, m, o, rand.Reader, &out); err != nil {
			t.Fatal(err)
		}
		if out.Len() != 0 {
			t.Errorf("printed %d bytes without --print", out.Len())
		}
		v, err := m.Get(ctx, o.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !matches(tc.re, v) {
			t.Errorf("%s: stored %q, want %s", o.Charset, v, tc.re)
		}
	}

	// --print prints the value stored; a second generate replaces it
	o := generateOptions{Name: "P", Length: 20, Charset: "hex", Print: true}
	out.Reset()
	if _, err := runGenerate(ctx, m, o, rand.Reader, &out); err != nil {
		t.Fatal(err)
	}
	first, _ := m.Get(ctx, "P")
	if out.String() != string(first)+"\n" {
		t.Errorf("--print printed %q, the store holds %q", out.String(), first)
	}
	runGenerate(ctx, m, o, rand.Reader, &out)
	if second, _ := m.Get(ctx, "P"); bytes.Equal(first, second) {
		t.Error("a second generate kept the value")
	}

	// --if-missing keeps it, writes nothing, and --print prints the kept value
	cur, _ := m.Get(ctx, "P")
	writes := m.Writes()
	o.IfMissing = true
	out.Reset()
	kept, err := runGenerate(ctx, m, o, rand.Reader, &out)
	if err != nil || !kept {
		t.Fatalf("--if-missing on an existing name: kept %v, %v", kept, err)
	}
	if after, _ := m.Get(ctx, "P"); !bytes.Equal(after, cur) || m.Writes() != writes {
		t.Error("--if-missing replaced an existing value")
	}
	if out.String() != string(cur)+"\n" {
		t.Errorf("--if-missing --print printed %q, want the kept value", out.String())
	}
	if kept, err := runGenerate(ctx, m, generateOptions{Name: "NEW", Length: 8, Charset: "hex", IfMissing: true}, rand.Reader, &out); err != nil || kept {
		t.Errorf("--if-missing on a new name: kept %v, %v", kept, err)
	}
	if _, err := m.Get(ctx, "NEW"); err != nil {
		t.Errorf("--if-missing did not create a missing name: %v", err)
	}

	// usage errors, nothing written
	writes = m.Writes()
	for _, o := range []generateOptions{
		{Name: "B", Length: 0, Charset: "alnum"},
		{Name: "B", Length: -1, Charset: "alnum"},
		{Name: "B", Length: store.MaxValueLen + 1, Charset: "alnum"},
		{Name: "B", Length: 8, Charset: "emoji"},
		{Name: "BAD NAME", Length: 8, Charset: "alnum"},
	} {
		if _, err := runGenerate(ctx, m, o, rand.Reader, &out); exitCode(err) != exitUsage {
			t.Errorf("%+v: %v (exit %d), want a usage error", o, err, exitCode(err))
		}
	}
	if m.Writes() != writes {
		t.Error("a refused generate wrote the store")
	}
}

// TestRandomStringReadError: a failing random source is an error, never a
// short or predictable value.
func TestRandomStringReadError(t *testing.T) {
	_, err := randomString(errReader{}, charsets["alnum"], 10)
	if err == nil || !errors.Is(err, errBroken) {
		t.Fatalf("got %v, want the read error", err)
	}
}

var errBroken = errors.New("broken source")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }

func matches(re string, v []byte) bool {
	return regexp.MustCompile(re).Match(v)
}
