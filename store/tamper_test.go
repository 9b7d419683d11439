package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/hush-secrets/hush/internal/testkit"
)

// Every single-byte change and every truncation of a small store is
// refused with ErrDecrypt (ErrNoStore for an empty file) through a fresh
// File: Get and List return no data, the error is never taken for an empty
// store or a missing key, and a write on the damaged store is refused
// without touching it.
func TestTamperEveryByteAndLength(t *testing.T) {
	for _, armored := range []bool{false, true} {
		t.Run(fmt.Sprintf("armored=%v", armored), func(t *testing.T) {
			orig, opts := smallStore(t, armored)
			t.Logf("store is %d bytes", len(orig))
			dir := t.TempDir()
			path := filepath.Join(dir, "store.age")
			n := 0
			flips := []byte{0x01, 0xff}
			if armored {
				flips = flips[:1] // the armored sweep backs up the binary one; keep it cheap
			}
			for i := range orig {
				for _, x := range flips {
					b := bytes.Clone(orig)
					b[i] ^= x
					// A write attempt costs a lock: try one on a sample.
					checkRefused(t, path, b, opts, fmt.Sprintf("byte %d ^ %#02x", i, x), orig, n%5 == 0)
					n++
				}
			}
			for l := 0; l < len(orig); l++ {
				checkRefused(t, path, orig[:l], opts, fmt.Sprintf("truncated to %d bytes", l), orig, l%5 == 0)
				n++
			}
			t.Logf("%d damaged versions refused", n)
		})
	}
}

// smallStore returns the bytes of a small store (one entry) and options
// with the identity that opens it.
func smallStore(t *testing.T, armored bool) ([]byte, Options) {
	t.Helper()
	id := newX25519(t)
	opts := Options{Identities: []age.Identity{id}, Armor: armored}
	f, p := mustCreate(t, []string{id.Recipient().String()}, opts)
	if err := f.Set(context.Background(), "K", []byte("secret value")); err != nil {
		t.Fatal(err)
	}
	b := mustReadFile(t, p)
	if len(b) > 760 { // the document's store key is 60 bytes of it
		t.Fatalf("the sweep store is %d bytes; keep it small", len(b))
	}
	// The undamaged bytes open, so every refusal below is the damage's.
	mustWriteFile(t, p, b, 0o600)
	if v, err := mustOpen(t, p, opts).Get(context.Background(), "K"); err != nil || string(v) != "secret value" {
		t.Fatalf("the intact store does not open: %q, %v", v, err)
	}
	return b, opts
}

func checkRefused(t *testing.T, path string, data []byte, opts Options, what string, orig []byte, write bool) {
	t.Helper()
	ctx := context.Background()
	mustWriteFile(t, path, data, 0o600)
	f, err := Open(path, opts)
	if len(data) == 0 {
		if !errors.Is(err, ErrNoStore) {
			t.Fatalf("%s: open = %v; want ErrNoStore", what, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: open: %v", what, err)
	}
	v, err := f.Get(ctx, "K")
	if err == nil && sameAgeFile(orig, data) {
		// ASCII armor tolerates some whitespace changes (a missing final
		// newline, say): the age file inside is the same, so is the data.
		if string(v) != "secret value" {
			t.Fatalf("%s: same age file, different value %q", what, v)
		}
		return
	}
	if !errors.Is(err, ErrDecrypt) || errors.Is(err, ErrNotFound) || v != nil {
		t.Fatalf("%s: get = %q, %v; want ErrDecrypt and no data", what, v, err)
	}
	es, err := f.List(ctx)
	if !errors.Is(err, ErrDecrypt) || es != nil {
		t.Fatalf("%s: list = %v, %v; want ErrDecrypt and no entries", what, es, err)
	}
	if !write {
		return
	}
	if err := f.Set(ctx, "NEW", []byte("x")); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("%s: set on a damaged store = %v; want ErrDecrypt", what, err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Fatalf("%s: a refused set rewrote the damaged store", what)
	}
}

// sameAgeFile reports whether two armored files hold the same age file
// byte for byte.
func sameAgeFile(a, b []byte) bool {
	if !isArmored(a) || !isArmored(b) {
		return false
	}
	pa, err1 := io.ReadAll(armor.NewReader(bytes.NewReader(a)))
	pb, err2 := io.ReadAll(armor.NewReader(bytes.NewReader(b)))
	return err1 == nil && err2 == nil && bytes.Equal(pa, pb)
}

// age releases each 64 KiB chunk's plaintext before it has authenticated
// the rest. A store whose first chunk alone is a valid document (the JSON
// is padded with whitespace to the chunk boundary) must still be refused
// when a later chunk is cut off or changed: the store reads to the end and
// keeps nothing on error.
func TestTamperAfterValidChunk(t *testing.T) {
	ctx := context.Background()
	id := newX25519(t)
	doc := []byte(`{"version":1,"recipients":["` + id.Recipient().String() + `"],"entries":{"K":{"value":"old value"}}}`)
	const chunk = 64 << 10
	plain := append(doc, bytes.Repeat([]byte(" "), chunk-len(doc))...)
	plain = append(plain, bytes.Repeat([]byte("\n"), 100)...)
	if _, err := decodeDocument(bytes.Clone(plain[:chunk])); err != nil {
		t.Fatalf("the first chunk alone should be a valid document: %v", err)
	}
	file := testkit.Encrypt(t, plain, id.Recipient())
	hdr := bytes.Index(file, []byte("\n--- "))
	hdr += bytes.IndexByte(file[hdr+1:], '\n') + 2 // end of the header
	second := hdr + 16 + chunk + 16                // nonce, first sealed chunk
	if len(file) != second+100+16 {
		t.Fatalf("unexpected layout: %d bytes, second chunk at %d", len(file), second)
	}
	opts := Options{Identities: []age.Identity{id}}
	p := tempStorePath(t)
	mustWriteFile(t, p, file, 0o600)
	if v, err := mustOpen(t, p, opts).Get(ctx, "K"); err != nil || string(v) != "old value" {
		t.Fatalf("intact store: %q, %v", v, err)
	}
	flipped := bytes.Clone(file)
	flipped[second+50] ^= 0x01
	for what, b := range map[string][]byte{
		"second chunk cut off":     file[:second],
		"second chunk cut short":   file[:len(file)-1],
		"second chunk flipped":     flipped,
		"second chunk tag flipped": append(bytes.Clone(file[:len(file)-1]), file[len(file)-1]^0xff),
	} {
		mustWriteFile(t, p, b, 0o600)
		f := mustOpen(t, p, opts)
		v, err := f.Get(ctx, "K")
		if !errors.Is(err, ErrDecrypt) || v != nil {
			t.Fatalf("%s: get = %q, %v; want ErrDecrypt and no data", what, v, err)
		}
		var de *DecryptError
		if !errors.As(err, &de) || !de.inPayload {
			t.Fatalf("%s: %v is not a payload failure", what, err)
		}
	}
}
