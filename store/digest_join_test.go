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
		// After the descriptor is closed, the goroutine's next read fails at
		// once (Go counts a descriptor's users: it is not another file's yet),
		// so a goroutine not waited for is caught only while it reads or
		// hashes: the read is repeated.
		for range 40 {
			_, err = g.List(ctx)
			if w := testkit.Working("store.digestAside"); len(w) > 0 {
				t.Fatalf("%s: the digest's goroutine still reads the file after the failed read:\n%s", c.name, strings.Join(w, "\n\n"))
			}
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("%s: %v, want ErrDecrypt", c.name, err)
			}
		}
	}
}
