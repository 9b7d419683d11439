package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A state written before the names file existed (testdata/state-v1, by
// hush at e24ab1d: a store holding API_KEY and DB_PASSWORD, its state
// with the names inline) still loads: the store reads under it, Trust
// reports its names, and the next write moves them to the names file.
func TestStateFromBeforeNamesFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, stateDir := filepath.Join(dir, "store.age"), filepath.Join(dir, "state")
	copyFile(t, "testdata/state-v1/store.age", path, 0o600)
	idText, err := os.ReadFile("testdata/state-v1/identity.txt")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := ParseIdentities("identity.txt", idText, IdentityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Identities: ids, StateDir: stateDir}
	sp, _ := newFile(path, opts).statePath()
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, "testdata/state-v1/state", sp, 0o600)

	st, err := AcceptedStateOf(stateDir, path)
	if err != nil || st == nil || strings.Join(st.Names, ",") != "API_KEY,DB_PASSWORD" || st.key == nil {
		t.Fatalf("the old state: %+v, %v", st, err)
	}
	f, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := f.Get(ctx, "API_KEY"); err != nil || string(v) != "one" {
		t.Fatalf("Get under the old state: %q, %v", v, err)
	}
	if err := f.Set(ctx, "NEW", []byte("three")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "\nname ") {
		t.Errorf("the state after a write still lists names inline:\n%s", b)
	}
	before, now, err := f.Trust(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := "API_KEY,DB_PASSWORD,NEW"; strings.Join(before.Names, ",") != want || strings.Join(now.Names, ",") != want {
		t.Errorf("Trust after the write: before %q, now %q; want %s", before.Names, now.Names, want)
	}
}

// The names file is rewritten when a write changes the names, and only
// then: a write of a value or a description leaves it as it was.
func TestNamesFileOnlyWhenNamesChange(t *testing.T) {
	ctx := context.Background()
	alice := newMember(t)
	path, _ := newTeamStore(t, alice)
	f := alice.open(t, path)
	sp, _ := f.statePath()
	names := func() (os.FileInfo, string) {
		t.Helper()
		fi, err := os.Stat(namesPath(sp))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(namesPath(sp))
		n := len(b) - sumLine
		if sum := sha256.Sum256(b[:n]); n < 0 || string(b[n:]) != sumPrefix+hex.EncodeToString(sum[:])+"\n" {
			t.Fatalf("names file %q does not end in its sum", b)
		}
		rest, ok := strings.CutPrefix(string(b[:n]), namesMagic)
		if !ok {
			t.Fatalf("names file %q", b)
		}
		return fi, rest
	}
	fi0, b0 := names()
	if b0 != "name \"API_KEY\"\n" {
		t.Fatalf("names file %q", b0)
	}
	if err := f.Set(ctx, "API_KEY", []byte("other")); err != nil {
		t.Fatal(err)
	}
	if err := f.Update(ctx, func(tx Tx) error { return tx.SetDescription("API_KEY", "a description") }); err != nil {
		t.Fatal(err)
	}
	if fi, _ := names(); !os.SameFile(fi0, fi) {
		t.Error("a write that changed no name rewrote the names file")
	}
	for _, step := range []struct {
		do   func() error
		want string
	}{
		{func() error { return f.Set(ctx, "B\u00e9", []byte("x")) }, "\"API_KEY\" \"B\u00e9\""},
		{func() error { return f.Delete(ctx, "API_KEY") }, "\"B\u00e9\""},
	} {
		if err := step.do(); err != nil {
			t.Fatal(err)
		}
		fi, b := names()
		if os.SameFile(fi0, fi) || b != "name "+strings.ReplaceAll(step.want, " ", "\nname ")+"\n" {
			t.Errorf("names file after a name changed: %q; want %s", b, step.want)
		}
		fi0 = fi
	}
	// A names file gone is written again by the next write, even one
	// that changes no name (from a store just read: a File's writes
	// build on each other, and then the names changed since its read).
	if err := os.Remove(namesPath(sp)); err != nil {
		t.Fatal(err)
	}
	if err := alice.open(t, path).Set(ctx, "B\u00e9", []byte("y")); err != nil {
		t.Fatal(err)
	}
	st, err := AcceptedStateOf(alice.state, path)
	if err != nil || strings.Join(st.Names, ",") != "B\u00e9" {
		t.Fatalf("names read back: %+v, %v", st, err)
	}
}

// A names file whose lines are not those its last line hashes leaves
// the names unknown, never wrong, and Trust writes it again.
func TestNamesFileNotTheStates(t *testing.T) {
	ctx := context.Background()
	alice := newMember(t)
	path, _ := newTeamStore(t, alice)
	f := alice.open(t, path)
	sp, _ := f.statePath()
	b, err := os.ReadFile(namesPath(sp))
	if err != nil {
		t.Fatal(err)
	}
	// The sum kept, the names changed: not the file it hashes.
	if err := os.WriteFile(namesPath(sp), bytes.Replace(b, []byte("API_KEY"), []byte("OTHER_K"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := AcceptedStateOf(alice.state, path)
	if err != nil || st == nil || st.Names != nil {
		t.Fatalf("a names file its last line does not hash was read: %+v, %v", st, err)
	}
	before, now, err := f.Trust(ctx)
	if err != nil || before == nil || before.Names != nil || strings.Join(now.Names, ",") != "API_KEY" {
		t.Fatalf("Trust: before %+v, now %+v, %v", before, now, err)
	}
	if st, err := AcceptedStateOf(alice.state, path); err != nil || strings.Join(st.Names, ",") != "API_KEY" {
		t.Fatalf("names after Trust: %+v, %v", st, err)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}
