package store

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeDocument: every input decodes the same whole and in pieces,
// and either is refused with a *DocumentError or ErrLimit, or is valid
// JSON and decodes into a document that re-encodes to a fixed point which
// decodes to the same document (and which encoding/json reads the same
// way). It never panics. Seeds are the plaintexts of the fixture stores
// (the test fails without them) plus the corpus in
// testdata/fuzz/FuzzDecodeDocument.
//
// The fixture seeds are a few KiB, and go test minimizes every new
// interesting input for up to -fuzzminimizetime (default 60s), which
// stalls short runs: run it with -fuzzminimizetime 5s.
func FuzzDecodeDocument(f *testing.F) {
	seeds := cpFixturePlaintexts(f)
	if len(seeds) == 0 {
		f.Fatal("no seeds: the fixture stores in fixtures/store-v1 are missing or unreadable")
	}
	for _, s := range seeds {
		f.Add(s)
	}
	corpus, _ := filepath.Glob("testdata/fuzz/FuzzDecodeDocument/*")
	if len(corpus) == 0 {
		f.Fatal("no seed corpus in testdata/fuzz/FuzzDecodeDocument")
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b) // a decoded document may alias its input
		d, err := decodeDocument(in)
		// Decoded while it arrives, as from a store file, it reads the same.
		for _, piece := range []int{1, 1 + len(b)%61} {
			if sd, serr := decodeInPieces(b, piece); !sameDecode(d, err, sd, serr) {
				t.Fatalf("in pieces of %d: %v, %v; whole: %v, %v", piece, sd != nil, serr, d != nil, err)
			}
		}
		if err != nil {
			var de *DocumentError
			if !errors.As(err, &de) && !errors.Is(err, ErrLimit) {
				t.Fatalf("error %T (%v): want *DocumentError or ErrLimit", err, err)
			}
			return
		}
		// A document is JSON: nothing encoding/json finds malformed is
		// accepted.
		if !json.Valid(in) {
			t.Fatalf("accepted a document that is not JSON:\n%q", in)
		}
		s1 := d.snapshot(false)
		enc, err := d.marshal()
		if err != nil {
			t.Fatalf("a decoded document does not encode: %v", err)
		}
		d2, err := decodeDocument(bytes.Clone(enc))
		if err != nil {
			t.Fatalf("the re-encoded document does not decode: %v\n%q", err, enc)
		}
		if d2.Version != d.Version || !cpSameSnapshot(s1, d2.snapshot(false)) {
			t.Fatalf("decode(encode(doc)) differs from doc:\n%q\n%q", in, enc)
		}
		enc2, err := d2.marshal()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not a fixed point: %v\n%q\n%q", err, enc, enc2)
		}
		cpAgreesWithEncodingJSON(t, enc, s1)
		// Where encoding/json also accepts the input, it reads the same
		// document: nothing is silently dropped or changed on the way in.
		var jd cpJSONDoc
		if json.Unmarshal(in, &jd) == nil {
			cpCompareJSON(t, "the input", jd, s1)
		}
	})
}

// cpAgreesWithEncodingJSON checks that encoding/json reads an encoded
// document as the store does: what age -d users will see.
func cpAgreesWithEncodingJSON(t *testing.T, enc []byte, want *Snapshot) {
	t.Helper()
	var d cpJSONDoc
	dec := json.NewDecoder(bytes.NewReader(enc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("encoding/json cannot read the encoded document: %v\n%q", err, enc)
	}
	cpCompareJSON(t, "the encoded document", d, want)
}

func cpCompareJSON(t *testing.T, what string, d cpJSONDoc, want *Snapshot) {
	t.Helper()
	if len(d.Entries) != len(want.Entries) || strings.Join(d.Recipients, "\n") != strings.Join(want.Recipients, "\n") {
		t.Fatalf("encoding/json sees %d entries, recipients %q; the store %d, %q", len(d.Entries), d.Recipients, len(want.Entries), want.Recipients)
	}
	for name, e := range d.Entries {
		w, ok := want.Entries[name]
		v := []byte(e.Value)
		if e.Encoding == "base64" {
			v, _ = base64.StdEncoding.DecodeString(e.Value)
		} else if !utf8.ValidString(e.Value) {
			t.Fatalf("in %s, %q: a raw value that is not UTF-8", what, name)
		}
		if !ok || !bytes.Equal(v, w.Value) || e.Description != w.Description ||
			!e.Created.Equal(w.Created) || !e.Updated.Equal(w.Updated) {
			t.Fatalf("in %s, %q: encoding/json reads %+v; the store %+v", what, name, e, w)
		}
	}
}

// cpFixturePlaintexts decrypts every fixture store with the fixture
// identity and returns the plaintexts.
func cpFixturePlaintexts(tb testing.TB) [][]byte {
	tb.Helper()
	idText, err := os.ReadFile(filepath.Join(cpFixtureDir, "identity.txt"))
	if err != nil {
		tb.Logf("fixture identity: %v", err)
		return nil
	}
	ids, err := ParseIdentities("identity.txt", idText, IdentityOptions{})
	if err != nil {
		tb.Fatalf("fixture identity: %v", err)
	}
	var out [][]byte
	for _, s := range cpFixtureStores {
		b, err := os.ReadFile(filepath.Join(cpFixtureDir, s.file))
		if err != nil {
			tb.Logf("fixture store: %v", err)
			continue
		}
		plain, _, err := decryptPlain(b, ids)
		if err != nil {
			tb.Fatalf("fixture %s does not decrypt: %v", s.file, err)
		}
		out = append(out, plain)
	}
	return out
}
