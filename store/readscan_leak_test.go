package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"filippo.io/age"
)

// A read-back that fails (a chunk that does not authenticate, early or
// late in the file, or a plaintext that is not a document) returns only
// once its decrypting goroutine has ended: none is left reading the file
// it closed.
func TestScanWrittenJoinsOnError(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	ids := []age.Identity{id}
	good, names := filledStore(t, filepath.Join(t.TempDir(), "store.age"), id, Options{Identities: ids}, 4000, 200)
	if len(good) < 4*scanPiece {
		t.Fatalf("the store is %d bytes, want several pieces", len(good))
	}
	// A plaintext that is no document, refused in its first piece.
	var notDoc bytes.Buffer
	w, err := age.Encrypt(&notDoc, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(append([]byte("}"), bytes.Repeat([]byte(" "), 8*scanPiece)...))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{len(good) / 4, len(good) / 2, len(good) - 100, -1} {
		bad := filepath.Join(t.TempDir(), "bad.age")
		b := append([]byte(nil), good...)
		if at < 0 {
			b = notDoc.Bytes()
		} else {
			b[at] ^= 1
		}
		if err := os.WriteFile(bad, b, 0o600); err != nil {
			t.Fatal(err)
		}
		before := runtime.NumGoroutine()
		_, err := scanWritten(bad, int64(len(b)), names[:10], ids)
		if n := runtime.NumGoroutine(); n > before {
			t.Errorf("byte %d flipped (-1: no document): %d goroutines after the read-back, %d before", at, n, before)
		}
		if !errors.Is(err, ErrDecrypt) {
			t.Errorf("byte %d flipped (-1: no document): %v, want ErrDecrypt", at, err)
		}
	}
}
