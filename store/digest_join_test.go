package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"filippo.io/age"
)

// A big store that does not decrypt (another identity, or a chunk
// flipped) is an error only once the goroutine hashing it alongside has
// ended: none reads the descriptor closed on return.
func TestDigestAsideJoinedOnError(t *testing.T) {
	ctx := context.Background()
	id, _ := age.GenerateX25519Identity()
	other, _ := age.GenerateX25519Identity()
	path := filepath.Join(t.TempDir(), "store.age")
	state := filepath.Join(t.TempDir(), "state")
	good, _ := filledStore(t, path, id, Options{Identities: []age.Identity{id}, StateDir: state}, 60_000, 32)
	if len(good) < 2*digestAsideMin {
		t.Fatalf("the store is %d bytes: too small to be hashed aside", len(good))
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/3] ^= 1
	for _, c := range []struct {
		name string
		file []byte
		id   age.Identity
	}{{"another identity", good, other}, {"a chunk flipped", flipped, id}} {
		p := filepath.Join(t.TempDir(), "store.age")
		if err := os.WriteFile(p, c.file, 0o600); err != nil {
			t.Fatal(err)
		}
		g, err := Open(p, Options{Identities: []age.Identity{c.id}, StateDir: filepath.Join(t.TempDir(), "state")})
		if err != nil {
			t.Fatal(err)
		}
		before := runtime.NumGoroutine()
		_, err = g.List(ctx)
		if n := runtime.NumGoroutine(); n > before {
			t.Errorf("%s: %d goroutines after the failed read, %d before", c.name, n, before)
		}
		if !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: %v, want ErrDecrypt", c.name, err)
		}
	}
}
