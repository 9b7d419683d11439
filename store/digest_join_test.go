package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	f, err := Create(ctx, path, []string{id.Recipient().String()}, Options{Identities: []age.Identity{id}, StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	names, values := make([]string, 60_000), make([][]byte, 60_000)
	for i := range names {
		names[i], values[i] = fmt.Sprintf("K%06d", i), bytes.Repeat([]byte{'v'}, 32)
	}
	if err := f.Update(ctx, func(tx Tx) error { return TxSetMany(tx, names, values) }); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil || len(good) < 2*digestAsideMin {
		t.Fatalf("the store is %d bytes (%v): too small to be hashed aside", len(good), err)
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
