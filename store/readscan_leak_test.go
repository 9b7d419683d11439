package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/testkit"
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
		// A goroutine not waited for fails its next read of the closed file
		// at once, so it is caught only while it decrypts: the read-back is
		// repeated.
		for range 40 {
			_, err := scanWritten(bad, int64(len(b)), names[:10], ids)
			if w := testkit.Working("store.scanWritten"); len(w) > 0 {
				t.Fatalf("byte %d flipped (-1: no document): the decrypting goroutine still runs after the read-back:\n%s", at, strings.Join(w, "\n\n"))
			}
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("byte %d flipped (-1: no document): %v, want ErrDecrypt", at, err)
			}
		}
	}
}
