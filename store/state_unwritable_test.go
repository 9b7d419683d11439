package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

// A state directory that cannot be written (a read-only home; here a path
// under a regular file, which even root cannot make a directory in) does
// not make a genuine store unreadable, also after a member's write changed
// its names; the check still refuses a store without a key once a keyed
// version was accepted.
func TestStateDirUnwritable(t *testing.T) {
	ctx := context.Background()
	id := newX25519(t)
	dir := t.TempDir()
	good := Options{Identities: []age.Identity{id}, StateDir: filepath.Join(dir, "state")}
	f, p := mustCreate(t, []string{id.Recipient().String()}, good)
	if err := f.Set(ctx, "A", []byte("1")); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(dir, "file")
	mustWriteFile(t, blocker, []byte("x"), 0o600)
	bad := Options{Identities: good.Identities, StateDir: filepath.Join(blocker, "state")}
	if _, err := mustOpen(t, p, bad).Get(ctx, "A"); err != nil {
		t.Fatalf("first read with an unwritable state directory: %v", err)
	}
	if err := mustOpen(t, p, good).Set(ctx, "B", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if _, err := mustOpen(t, p, bad).Get(ctx, "B"); err != nil {
		t.Fatalf("read after a write changed the names: %v", err)
	}
	if _, err := os.Stat(filepath.Join(blocker, "state")); err == nil {
		t.Fatal("a state directory appeared under a regular file")
	}
}
