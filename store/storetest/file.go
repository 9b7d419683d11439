package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store"
)

// NewFile creates an empty file store, encrypted to a fresh X25519
// identity, in a temporary directory of t. It returns the store and the
// identity that opens it.
func NewFile(t testing.TB) (*store.File, *age.X25519Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "store.age")
	f, err := store.Create(context.Background(), p, []string{id.Recipient().String()}, store.Options{Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	return f, id
}
