package format

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/encode")

// encode encodes a decoded document again.
func encode(d *Document) []byte {
	rs := make([]*Record, len(d.Entries))
	for i := range d.Entries {
		rs[i] = d.Record(&d.Entries[i])
	}
	return EncodeWith(d.Version, d.Recipients, d.Integrity, rs)
}

// goldenRecords are the entries of testdata/encode/values.json, which the
// encoder of hush before this package wrote: every kind of byte in values,
// names and descriptions, binary values, and timestamps in other zones,
// with fractions, at the ends of the range and zero.
func goldenRecords(t *testing.T) []*Record {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	ts := []time.Time{
		{},
		time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 6, 1, 12, 0, 0, 500000000, ny),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 120000000, time.FixedZone("x", 3600)),
	}
	entries := []struct {
		name  string
		value []byte
		desc  string
		c, u  int
	}{
		{"ALL_BYTES", all, "every byte", 1, 2},
		{"TEXT_ALL_ASCII", all[:128], "", 2, 2},
		{"CONTROL", []byte("\x01\x1b[31mred\x7f\t\r\n\b\f"), "tab\there", 3, 4},
		{"QUOTES", []byte(`{"value":"x","encoding":"base64"}\"\\/`), `say "hi" \ /`, 5, 0},
		{"UNICODE", []byte("héllo ✓ 🔑 \u2028 \u2029 \ufeff <>&"), "<b>&amp;</b> \u2028", 0, 5},
		{"EMPTY", []byte{}, "", 0, 0},
		{"NUL", []byte{0}, "nul\x00desc", 1, 1},
		{"INVALID_DESC", []byte("v"), "bad\xff\xfeutf8 \xe2\x82", 1, 1},
		{"BASE64_LOOKALIKE", []byte("aGVsbG8="), "", 1, 1},
		{"ünïcødé/name:x@y", []byte("x"), "", 1, 1},
		{"😀", []byte("\xed\xa0\x80"), "surrogate bytes", 1, 1},
		{"A", []byte("a"), "", 1, 1},
	}
	var rs []*Record
	for _, e := range entries {
		v, enc := EncodeValue(e.value)
		rs = append(rs, &Record{Name: e.name, Value: v, Encoding: enc, Description: e.desc, Created: ts[e.c], Updated: ts[e.u]})
	}
	return rs
}

// The encoder writes, byte for byte, what hush has always written.
func TestEncodeGolden(t *testing.T) {
	for name, got := range map[string][]byte{
		"values.json": Encode(1, []string{"age1x", "ssh-ed25519 AAAA c", `we"ird\`}, goldenRecords(t)),
		"empty.json":  Encode(1, nil, nil),
	} {
		path := filepath.Join("testdata/encode", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encoded\n%q\nwant\n%q", name, got, want)
		}
		// And it decodes to what was encoded.
		d, err := Decode(want)
		if err != nil {
			t.Fatalf("%s does not decode: %v", name, err)
		}
		checkAccepted(t, want, d)
	}
}

// The plaintext of every fixture store decodes and encodes again to
// itself.
func TestFixturesRoundTrip(t *testing.T) {
	for i, plain := range fixturePlaintexts(t) {
		d, err := Decode(plain)
		if err != nil {
			t.Fatalf("fixture %d: %v", i, err)
		}
		if enc := encode(d); !bytes.Equal(enc, plain) {
			t.Errorf("fixture %d encodes to\n%q\nnot\n%q", i, enc, plain)
		}
	}
}

// fixturePlaintexts decrypts every store in fixtures/store-v1 with the
// fixture identities. It fails the test if there is none.
func fixturePlaintexts(tb testing.TB) [][]byte {
	tb.Helper()
	const dir = "../../../fixtures/store-v1"
	idText, err := os.ReadFile(filepath.Join(dir, "identity.txt"))
	if err != nil {
		tb.Fatalf("fixture identity: %v", err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(idText))
	if err != nil {
		tb.Fatalf("fixture identity: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "store*.age"))
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		plain, err := testkit.Decrypt(b, ids...)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out = append(out, plain)
	}
	if len(out) == 0 {
		tb.Fatalf("no fixture stores in %s", dir)
	}
	return out
}

// checkAccepted checks a document that Decode accepted from in: in is
// JSON; d encodes to a document that decodes to the same one and encodes
// to itself (a fixed point); encoding/json reads that encoding as d, and
// reads in as d too where it can read in at all, so nothing is silently
// dropped or changed on the way in.
func checkAccepted(t *testing.T, in []byte, d *Document) {
	t.Helper()
	if !json.Valid(in) {
		t.Fatalf("accepted a document that is not JSON:\n%q", in)
	}
	enc := encode(d)
	d2, err := Decode(bytes.Clone(enc))
	if err != nil {
		t.Fatalf("the re-encoded document does not decode: %v\n%q", err, enc)
	}
	if enc2 := encode(d2); d2.Version != d.Version || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not a fixed point:\n%q\n%q", enc, enc2)
	}
	jd, err := testkit.DecodeJSONDoc(enc)
	if err != nil {
		t.Fatalf("encoding/json cannot read the encoded document: %v\n%q", err, enc)
	}
	compareJSON(t, "the encoded document", jd, d)
	jd = testkit.JSONDoc{}
	if json.Unmarshal(in, &jd) == nil {
		compareJSON(t, "the input", jd, d)
	}
}

func compareJSON(t *testing.T, what string, jd testkit.JSONDoc, d *Document) {
	t.Helper()
	if jd.Version != d.Version || len(jd.Entries) != len(d.Entries) || strings.Join(jd.Recipients, "\n") != strings.Join(d.Recipients, "\n") {
		t.Fatalf("in %s, encoding/json sees version %d, %d entries, recipients %q; Decode %d, %d, %q",
			what, jd.Version, len(jd.Entries), jd.Recipients, d.Version, len(d.Entries), d.Recipients)
	}
	if !bytes.Equal(jd.StoreKey, d.StoreKey) || len(jd.Rotations) != len(d.Rotations) {
		t.Fatalf("in %s, encoding/json sees store key %x and %d rotations; Decode %x and %d", what, jd.StoreKey, len(jd.Rotations), d.StoreKey, len(d.Rotations))
	}
	for i, r := range jd.Rotations {
		if !bytes.Equal(r, d.Rotations[i]) {
			t.Fatalf("in %s, rotation %d differs", what, i)
		}
	}
	for name, je := range jd.Entries {
		i, ok := d.Find(name)
		if !ok {
			t.Fatalf("in %s, encoding/json sees %q; Decode does not", what, name)
		}
		e := &d.Entries[i]
		v := []byte(je.Value)
		if je.Encoding == Base64 {
			v, _ = base64.StdEncoding.DecodeString(je.Value)
		} else if !utf8.ValidString(je.Value) {
			t.Fatalf("in %s, %q: a raw value that is not UTF-8", what, name)
		}
		if !bytes.Equal(v, d.Value(e)) || je.Description != d.String(e.Description) ||
			!je.Created.Equal(d.Time(e.Created)) || !je.Updated.Equal(d.Time(e.Updated)) {
			t.Fatalf("in %s, %q: encoding/json reads %+v; Decode %+v", what, name, je, d.Record(e))
		}
	}
}
