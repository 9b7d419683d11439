package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

// TestCopiedVersionRecordedOnce: a known version in another file (a copy
// put in place, a checkout) is recorded as the file last read on its
// first read, so that later reads take its digest from the state instead
// of hashing the whole file on every read; a second read of the same file
// writes nothing.
func TestCopiedVersionRecordedOnce(t *testing.T) {
	ctx := context.Background()
	id, _ := age.GenerateX25519Identity()
	path := filepath.Join(t.TempDir(), "store.age")
	opts := Options{Identities: []age.Identity{id}, StateDir: filepath.Join(t.TempDir(), "state")}
	f, err := Create(ctx, path, []string{id.Recipient().String()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(ctx, "K", []byte("v")); err != nil {
		t.Fatal(err)
	}
	// The same bytes in a new file at the same path.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".copy", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".copy", path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := Open(path, opts)
	if _, err := g.Get(ctx, "K"); err != nil {
		t.Fatal(err)
	}
	st, err := g.loadState()
	if err != nil || st == nil {
		t.Fatalf("state: %v, %v", st, err)
	}
	if st.last != idOf(fi) {
		t.Fatalf("after reading a copy of a known version, the state's last file is %+v, want the copy %+v: every read would hash the file", st.last, idOf(fi))
	}
	sp, _ := g.statePath()
	before, err := os.Stat(sp)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := Open(path, opts)
	if _, err := h.Get(ctx, "K"); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(sp)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Fatal("a second read of the same file wrote the state")
	}
}
