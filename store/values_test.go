package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"filippo.io/age"
)

// awkwardValues are byte strings that must round-trip exactly.
func awkwardValues() map[string][]byte {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	return map[string][]byte{
		"ALL_BYTES":        all,
		"ALL_BYTES_DOWN":   bytes.Repeat([]byte{0xff, 0xfe, 0x80, 0x7f, 0x00}, 3),
		"NUL":              {0},
		"NULS":             []byte("a\x00\x00b\x00"),
		"INVALID_UTF8":     {0xff, 0xfe, 0xfd},
		"CUT_RUNE":         []byte("abc\xe2\x82"),
		"SURROGATE":        []byte("\xed\xa0\x80"),
		"OVERLONG":         []byte("\xc0\xaf"),
		"TRAILING_NL":      []byte("value\n"),
		"TRAILING_NLS":     []byte("value\n\n\n"),
		"ONLY_NL":          []byte("\n"),
		"CRLF":             []byte("a\r\n"),
		"EMPTY":            {},
		"SPACES":           []byte("  padded  "),
		"UNICODE":          []byte("héllo ✓ 🔑 \u2028 \ufeff"),
		"CONTROL":          []byte("\x01\x1b[31mred\x7f\t"),
		"JSON_LOOKALIKE":   []byte(`{"value":"x","encoding":"base64"}\"\\`),
		"BASE64_LOOKALIKE": []byte("aGVsbG8="),
		"MULTILINE_PEM":    []byte("-----BEGIN X-----\nAAAA\n-----END X-----\n"),
	}
}

func TestValuesRoundTripExactly(t *testing.T) {
	ctx := context.Background()
	id := newX25519(t)
	opts := Options{Identities: []age.Identity{id}}
	f, p := mustCreate(t, []string{id.Recipient().String()}, opts)
	vals := awkwardValues()
	err := f.Update(ctx, func(tx Tx) error {
		for n, v := range vals {
			if err := tx.Set(n, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(ctx, "SET_ALONE", vals["ALL_BYTES"]); err != nil {
		t.Fatal(err)
	}
	vals["SET_ALONE"] = vals["ALL_BYTES"]
	g := mustOpen(t, p, opts)
	for n, want := range vals {
		got, err := g.Get(ctx, n)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: got %q, %v; want %q", n, got, err, want)
		}
	}
	// Get hands out a copy: changing it changes nothing stored.
	v, _ := g.Get(ctx, "ALL_BYTES")
	v[0] = 'X'
	if again, _ := g.Get(ctx, "ALL_BYTES"); again[0] != 0 {
		t.Fatal("a caller's change to a returned value reached the store")
	}
	// In the file, text stays text and other bytes are marked base64.
	d := mustAgeDecryptFile(t, p, id)
	for n, want := range vals {
		e := d.Entries[n]
		if utf8.Valid(want) != (e.Encoding == "") || (e.Encoding != "" && e.Encoding != "base64") {
			t.Errorf("%s: encoding %q for %q", n, e.Encoding, want)
		}
	}
}

// A value of exactly the limit round-trips; one byte more is ErrLimit and
// the store is untouched.
func TestValueLimit(t *testing.T) {
	ctx := context.Background()
	id := newX25519(t)
	opts := Options{Identities: []age.Identity{id}}
	for _, kind := range []string{"binary", "text"} {
		t.Run(kind, func(t *testing.T) {
			f, p := mustCreate(t, []string{id.Recipient().String()}, opts)
			big := make([]byte, MaxValueLen)
			if kind == "binary" {
				rand.Read(big)
			} else {
				copy(big, strings.Repeat("line \"quoted\" \\ \x01\n", MaxValueLen/18+1))
			}
			if err := f.Set(ctx, "BIG", big); err != nil {
				t.Fatalf("set %d bytes: %v", len(big), err)
			}
			if got, err := mustOpen(t, p, opts).Get(ctx, "BIG"); err != nil || !bytes.Equal(got, big) {
				t.Fatalf("4 MiB value did not round-trip (%d bytes, %v)", len(got), err)
			}
			before := mustReadFile(t, p)
			over := append(big, 'x')
			for name, set := range map[string]func() error{
				"set":    func() error { return f.Set(ctx, "OVER", over) },
				"tx set": func() error { return f.Update(ctx, func(tx Tx) error { return tx.Set("OVER", over) }) },
			} {
				err := set()
				if !errors.Is(err, ErrLimit) {
					t.Fatalf("%s of %d bytes = %v; want ErrLimit", name, len(over), err)
				}
				if !strings.Contains(err.Error(), "4194304") {
					t.Errorf("%s: the error does not state the limit: %v", name, err)
				}
				if !bytes.Equal(before, mustReadFile(t, p)) {
					t.Fatalf("%s over the limit changed the store", name)
				}
			}
		})
	}
}

// The whole-store limit: reading refuses a larger plaintext before
// looking at it. (Writing 256 MiB is too slow for every run; with
// HUSH_LONG=1 it is tried.)
func TestStoreLimit(t *testing.T) {
	// 256 MiB of untouched anonymous memory costs nothing until read.
	big, err := syscall.Mmap(-1, 0, MaxStoreSize+1, syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(big)
	if _, err := decodeDocument(big); !errors.Is(err, ErrLimit) {
		t.Fatalf("decoding a %d-byte document = %v; want ErrLimit", MaxStoreSize+1, err)
	}
	if os.Getenv("HUSH_LONG") != "1" {
		t.Skip("writing past the 256 MiB store limit: set HUSH_LONG=1")
	}
	ctx := context.Background()
	id := newX25519(t)
	f, p := mustCreate(t, []string{id.Recipient().String()}, Options{Identities: []age.Identity{id}})
	before := mustReadFile(t, p)
	v := bytes.Repeat([]byte("v"), MaxValueLen)
	err = f.Update(ctx, func(tx Tx) error {
		for i := range MaxStoreSize/MaxValueLen + 1 {
			if err := tx.Set(strings.Repeat("n", i+1), v); err != nil {
				return err
			}
		}
		return nil
	})
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("a store over 256 MiB: %v; want ErrLimit", err)
	}
	if !bytes.Equal(before, mustReadFile(t, p)) {
		t.Fatal("the refused batch changed the store")
	}
}

func TestNames(t *testing.T) {
	ctx := context.Background()
	id := newX25519(t)
	opts := Options{Identities: []age.Identity{id}}
	f, p := mustCreate(t, []string{id.Recipient().String()}, opts)
	bad := map[string]string{ // name -> what the message must say
		"":                        "empty",
		"a b":                     "whitespace",
		" lead":                   "whitespace",
		"trail ":                  "whitespace",
		"a\tb":                    "whitespace",
		"a\nb":                    "whitespace",
		"a\rb":                    "whitespace",
		"nbsp\u00a0x":             "whitespace",
		"line\u2028sep":           "whitespace",
		"nul\x00":                 "control",
		"bell\x07":                "control",
		"del\x7f":                 "control",
		"c1\u0085":                "control",
		"bad\xffutf8":             "UTF-8",
		strings.Repeat("a", 256):  "256 bytes, the limit is 255",
		strings.Repeat("é", 128):  "256 bytes, the limit is 255",
		strings.Repeat("a", 4096): "4096 bytes",
	}
	before := mustReadFile(t, p)
	for name, say := range bad {
		err := f.Set(ctx, name, []byte("value-must-not-show"))
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("set %q = %v; want ErrInvalidName", name, err)
			continue
		}
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Op != "set" || ke.Name != name {
			t.Errorf("set %q: error %v is not a KeyError for the name", name, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, say) || strings.Contains(msg, "value-must-not-show") {
			t.Errorf("set %q: message %q should say %q and never the value", name, msg, say)
		}
		if strings.ContainsAny(msg, "\x00\x07\x7f\n\r\t") {
			t.Errorf("set %q: message carries a raw control character: %q", name, msg)
		}
		if err := f.Update(ctx, func(tx Tx) error { return tx.Set(name, []byte("v")) }); !errors.Is(err, ErrInvalidName) {
			t.Errorf("tx set %q = %v; want ErrInvalidName", name, err)
		}
	}
	if !bytes.Equal(before, mustReadFile(t, p)) {
		t.Fatal("refused names changed the store")
	}
	if err := f.Set(ctx, "", nil); err == nil || !strings.HasPrefix(err.Error(), `set "": `) {
		t.Errorf("the empty name vanishes from the message: %v", err)
	}
	if err := ValidateName(strings.Repeat("a", 256)); !errors.Is(err, ErrLimit) {
		t.Errorf("a 256-byte name should also wrap ErrLimit: %v", err)
	}

	good := []string{strings.Repeat("a", 255), strings.Repeat("é", 127) + "a", "a", "A.b-c_d/e:f@g", "ünïcødé", "__hush_x_y", "=", "#", "😀"}
	for _, name := range good {
		if err := f.Set(ctx, name, []byte(name)); err != nil {
			t.Errorf("set %q: %v", name, err)
		}
	}
	g := mustOpen(t, p, opts)
	for _, name := range good {
		if v, err := g.Get(ctx, name); err != nil || string(v) != name {
			t.Errorf("get %q = %q, %v", name, v, err)
		}
	}
}
