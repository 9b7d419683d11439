package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/testkit"
)

// The document format and its test vectors live in internal/format; the
// tests here check what the store makes of a document.

// secretMarker is the marker placed in the values of the format's test
// vectors; no error may ever show it.
const secretMarker = "TOPSECRET"

// docWithEntries builds a plaintext document around entries (the inside of the
// "entries" object) with a valid version and recipient.
func docWithEntries(entries string) string {
	return `{"version":1,"recipients":["age1x"],"entries":{` + entries + `}}`
}

// refusalVector is a test vector of package format (see its vectors_test.go).
type refusalVector struct {
	name, reason string
	doc          []byte
}

// refusalVectors returns the format's test vectors that must be refused.
func refusalVectors(t testing.TB) []refusalVector {
	t.Helper()
	files, _ := filepath.Glob("internal/format/testdata/vectors/*")
	var vs []refusalVector
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		head, doc, ok := bytes.Cut(raw, []byte("\n\n"))
		if !ok {
			t.Fatalf("%s: no blank line after the header", f)
		}
		if !bytes.Contains(head, []byte("expect: refuse\n")) {
			continue
		}
		_, reason, _ := strings.Cut(string(head), "reason: ")
		reason, _, _ = strings.Cut(reason, "\n")
		vs = append(vs, refusalVector{filepath.Base(f), reason, doc})
	}
	if len(vs) < 40 {
		t.Fatalf("only %d refusal vectors in internal/format/testdata/vectors", len(vs))
	}
	return vs
}

// Malformed documents are refused as a whole with a *DocumentError that
// says what is wrong and never quotes a value, both when decoded and when
// a File meets one inside a store that decrypts.
func TestDocumentRefusals(t *testing.T) {
	id := newX25519(t)
	for _, tc := range refusalVectors(t) {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeDocument(bytes.Clone(tc.doc))
			var de *DocumentError
			if !errors.As(err, &de) {
				t.Fatalf("decode = %v; want a *DocumentError", err)
			}
			if msg := err.Error(); msg != "store: malformed document: "+tc.reason {
				t.Errorf("message %q; want the store prefix and %q", msg, tc.reason)
			}

			// The same document inside a store that decrypts.
			p := tempStorePath(t)
			mustWriteFile(t, p, testkit.Encrypt(t, tc.doc, id.Recipient()), 0o600)
			f := mustOpen(t, p, Options{Identities: []age.Identity{id}})
			v, gerr := f.Get(context.Background(), "GOOD")
			if !errors.Is(gerr, ErrDecrypt) || !errors.As(gerr, new(*DecryptError)) || v != nil {
				t.Fatalf("File get = %q, %v; want ErrDecrypt and no data", v, gerr)
			}
			if strings.Contains(gerr.Error(), secretMarker) {
				t.Fatalf("File error shows a value: %v", gerr)
			}
			if !strings.Contains(gerr.Error(), "malformed document: "+tc.reason) {
				t.Errorf("File error %q does not say the document is malformed", gerr)
			}
			before := mustReadFile(t, p)
			if err := f.Set(context.Background(), "NEW", []byte("v")); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("set on a malformed store = %v; want ErrDecrypt", err)
			}
			if !bytes.Equal(before, mustReadFile(t, p)) {
				t.Fatal("a write replaced the malformed store")
			}
		})
	}
}

// A decoded document answers get and list from its sorted entries, and
// gives the same answers once it is materialised for a write; a document
// whose entries are out of order (edited by hand) is sorted when decoded.
func TestDecodedDocument(t *testing.T) {
	doc := docWithEntries(`"C":{"value":"3","description":"c","created":"2024-01-02T04:04:05+01:00"},"A":{"value":"/w==","encoding":"base64"},"B":{"value":"2\n"}`)
	d, err := decodeDocument([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "\xff", "B": "2\n", "C": "3"}
	check := func(when string) {
		for n, v := range want {
			if e, ok := d.get(n); !ok || string(e.bytes()) != v {
				t.Errorf("%s: get(%q) = %+v, %v; want value %q", when, n, e, ok, v)
			}
		}
		if _, ok := d.get("D"); ok {
			t.Errorf("%s: get found an absent name", when)
		}
		es := d.list()
		if len(es) != 3 || es[0].Name != "A" || es[1].Name != "B" || es[2].Name != "C" {
			t.Fatalf("%s: list = %+v; want A, B, C", when, es)
		}
		if es[2].Description != "c" || es[2].Created.Format("15:04:05Z07:00") != "03:04:05Z" || !es[2].Updated.IsZero() || d.len() != 3 {
			t.Errorf("%s: C listed as %+v", when, es[2])
		}
	}
	check("decoded")
	lazy := d.list()
	d.all()
	d.decoded = nil // from now on, answered from the map
	check("materialised")
	if got := d.list(); !equalEntries(got, lazy) {
		t.Errorf("list after materialising %+v; before %+v", got, lazy)
	}
}

func equalEntries(a, b []Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Description != b[i].Description || !a[i].Created.Equal(b[i].Created) || !a[i].Updated.Equal(b[i].Updated) {
			return false
		}
	}
	return true
}
