package store

import (
	"bytes"
	"os"
	"testing"
	"time"
)

func TestCaptureGolden(t *testing.T) {
	// fixtures re-encode to themselves
	for i, p := range cpFixturePlaintexts(t) {
		d, err := decodeDocument(bytes.Clone(p))
		if err != nil {
			t.Fatal(err)
		}
		if enc := encodeDocument(d); !bytes.Equal(enc, p) {
			t.Errorf("fixture %d does not re-encode to itself", i)
		}
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	ny, _ := time.LoadLocation("America/New_York")
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
	d := newDocument([]string{"age1x", "ssh-ed25519 AAAA c", `we"ird\`})
	for _, e := range entries {
		v, enc := encodeValue(e.value)
		d.all()[e.name] = &docEntry{Value: v, Encoding: enc, Description: e.desc, Created: ts[e.c], Updated: ts[e.u]}
	}
	os.WriteFile("internal/format/testdata/encode/values.json", encodeDocument(d), 0o644)
	os.WriteFile("internal/format/testdata/encode/empty.json", encodeDocument(newDocument(nil)), 0o644)
}
