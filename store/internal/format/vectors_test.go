package format

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The test vectors in testdata/vectors, in the manner of age's CCTV
// vectors (c2sp.org/CCTV/age): each file is a header of "key: value"
// lines, a blank line, and the plaintext, byte for byte. The keys:
//
//	expect: accept | refuse
//	reason: the exact Reason of the *Error (refuse only)
//	comment: what the vector is about
//
// A refused document must give exactly that reason and never show the
// marker value TOPSECRET; an accepted one must pass checkAccepted (it is
// JSON, reads as encoding/json reads it, and re-encodes to a fixed point).

// secretMarker is in the values of the vectors; no error may show it.
const secretMarker = "TOPSECRET"

type vector struct {
	name, expect, reason string
	doc                  []byte
}

func readVectors(t testing.TB) []vector {
	t.Helper()
	files, err := filepath.Glob("testdata/vectors/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in testdata/vectors (%v)", err)
	}
	var vs []vector
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v := vector{name: filepath.Base(f)}
		head, doc, ok := bytes.Cut(raw, []byte("\n\n"))
		if !ok {
			t.Fatalf("%s: no blank line before the document", v.name)
		}
		for _, line := range strings.Split(string(head), "\n") {
			key, val, _ := strings.Cut(line, ": ")
			switch key {
			case "expect":
				v.expect = val
			case "reason":
				v.reason = val
			case "comment":
			default:
				t.Fatalf("%s: unknown header key %q", v.name, key)
			}
		}
		if v.expect != "accept" && v.expect != "refuse" || (v.expect == "refuse") != (v.reason != "") {
			t.Fatalf("%s: expect %q with reason %q", v.name, v.expect, v.reason)
		}
		v.doc = doc
		vs = append(vs, v)
	}
	return vs
}

func TestVectors(t *testing.T) {
	counts := map[string]int{}
	for _, v := range readVectors(t) {
		counts[v.expect]++
		t.Run(v.name, func(t *testing.T) {
			d, err := Decode(bytes.Clone(v.doc))
			if v.expect == "accept" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				checkAccepted(t, v.doc, d)
				return
			}
			var fe *Error
			if !errors.As(err, &fe) || d != nil {
				t.Fatalf("Decode = %v, %v; want an *Error", d != nil, err)
			}
			if fe.Reason != v.reason {
				t.Errorf("reason %q; want %q", fe.Reason, v.reason)
			}
			if strings.Contains(err.Error(), secretMarker) {
				t.Errorf("the error shows a value: %q", err)
			}
		})
	}
	t.Logf("vectors by verdict: %v", counts)
	if counts["accept"] < 10 || counts["refuse"] < 40 {
		t.Errorf("too few vectors: %v", counts)
	}
}

// Documents that a JSON tool may make of a valid one (pretty printed,
// members reordered, escapes used, entries unsorted) decode to the same
// document as the one hush writes.
func TestLenientVectorsAgree(t *testing.T) {
	want := decodeVector(t, "lenient-canonical")
	for _, name := range []string{"lenient-pretty", "lenient-reordered", "lenient-escaped-names"} {
		if got := decodeVector(t, name); !bytes.Equal(encode(got), encode(want)) {
			t.Errorf("%s decodes to\n%s\nwant\n%s", name, encode(got), encode(want))
		}
	}
}

func decodeVector(t *testing.T, name string) *Document {
	t.Helper()
	for _, v := range readVectors(t) {
		if v.name == name {
			d, err := Decode(v.doc)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return d
		}
	}
	t.Fatalf("no vector %s", name)
	return nil
}

// A document whose entries are out of order is sorted when decoded, and
// every entry is found.
func TestUnsortedEntries(t *testing.T) {
	d, err := Decode([]byte(`{"version":1,"entries":{"C":{"value":"3"},"A":{"value":"1"},"B":{"value":"2"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range []string{"A", "B", "C"} {
		j, ok := d.Find(n)
		if !ok || j != i || string(d.Value(&d.Entries[j])) != string(rune('1'+i)) {
			t.Errorf("Find(%q) = %d, %v", n, j, ok)
		}
	}
	if _, ok := d.Find("D"); ok {
		t.Error("Find found an absent name")
	}
}
