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
)

// Every single-byte change and every truncation of a small store is
// refused with ErrDecrypt (ErrNoStore for an empty file) through a fresh
// File: Get and List return no data, the error is never taken for an empty
// store or a missing key, and a write on the damaged store is refused
// without touching it.
func TestTamperEveryByteAndLength(t *testing.T) {
	for _, armored := range []bool{false, true} {
		t.Run(fmt.Sprintf("armored=%v", armored), func(t *testing.T) {
			orig, opts := cpSmallStore(t, armored)
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
					cpCheckRefused(t, path, b, opts, fmt.Sprintf("byte %d ^ %#02x", i, x), orig, n%5 == 0)
					n++
				}
			}
			for l := 0; l < len(orig); l++ {
				cpCheckRefused(t, path, orig[:l], opts, fmt.Sprintf("truncated to %d bytes", l), orig, l%5 == 0)
				n++
			}
			t.Logf("%d damaged versions refused", n)
		})
	}
}

// cpSmallStore returns the bytes of a small store (one entry) and options
// with the identity that opens it.
func cpSmallStore(t *testing.T, armored bool) ([]byte, Options) {
	t.Helper()
	id := cpX25519(t)
	opts := Options{Identities: []age.Identity{id}, Armor: armored}
	f, p := cpCreate(t, []string{id.Recipient().String()}, opts)
	if err := f.Set(context.Background(), "K", []byte("secret value")); err != nil {
		t.Fatal(err)
	}
	b := cpReadFile(t, p)
	if len(b) > 700 {
		t.Fatalf("the sweep store is %d bytes; keep it small", len(b))
	}
	// The undamaged bytes open, so every refusal below is the damage's.
	cpWriteFile(t, p, b, 0o600)
	if v, err := cpOpen(t, p, opts).Get(context.Background(), "K"); err != nil || string(v) != "secret value" {
		t.Fatalf("the intact store does not open: %q, %v", v, err)
	}
	return b, opts
}

func cpCheckRefused(t *testing.T, path string, data []byte, opts Options, what string, orig []byte, write bool) {
	t.Helper()
	ctx := context.Background()
	cpWriteFile(t, path, data, 0o600)
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
	if err == nil && cpSameAgeFile(orig, data) {
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

// cpSameAgeFile reports whether two armored files hold the same age file
// byte for byte.
func cpSameAgeFile(a, b []byte) bool {
	if !isArmored(a) || !isArmored(b) {
		return false
	}
	pa, err1 := io.ReadAll(armor.NewReader(bytes.NewReader(a)))
	pb, err2 := io.ReadAll(armor.NewReader(bytes.NewReader(b)))
	return err1 == nil && err2 == nil && bytes.Equal(pa, pb)
}
