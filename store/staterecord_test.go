package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

// copiedStore makes a store with one entry, read and written by this
// client, then puts a copy of the same bytes in its place (a new file, as
// cp or a git checkout leaves): a version the state saw, in a file it does
// not name. It returns the path, the options and the state file.
func copiedStore(t *testing.T) (string, Options, string) {
	t.Helper()
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
	sp, _ := f.statePath()
	return path, opts, sp
}

// readCopy opens the store and reads it; it reports whether the read
// hashed the whole file (its digest was not in the state) and so holds it
// for RecordReads.
func readCopy(t *testing.T, path string, opts Options) (*File, bool) {
	t.Helper()
	f, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := f.Get(context.Background(), "K"); err != nil || string(v) != "v" {
		t.Fatalf("get: %q, %v", v, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f, f.held != (fileRecord{})
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A known version copied into place is hashed by every read until one
// is recorded with RecordReads (reads alone never write the state); after
// that, reads of the copy take its digest from the state and write
// nothing.
func TestCopiedVersionRecordedByRecordReads(t *testing.T) {
	path, opts, sp := copiedStore(t)
	before := readFile(t, sp)
	f, hashed := readCopy(t, path, opts)
	if !hashed {
		t.Fatal("the first read of the copy did not hash it")
	}
	if !bytes.Equal(readFile(t, sp), before) {
		t.Fatal("a read wrote the state before RecordReads")
	}
	if _, hashed := readCopy(t, path, opts); !hashed {
		t.Fatal("a second read without RecordReads took the copy's digest from the state")
	}
	if err := f.RecordReads(); err != nil {
		t.Fatal(err)
	}
	st, err := f.loadState()
	if err != nil || st == nil {
		t.Fatalf("state: %v, %v", st, err)
	}
	fi, _ := os.Stat(path)
	if st.last != idOf(fi) {
		t.Fatalf("after RecordReads the state's file is %+v, want the copy %+v", st.last, idOf(fi))
	}
	recorded := readFile(t, sp)
	g, hashed := readCopy(t, path, opts)
	if hashed {
		t.Fatal("a read after RecordReads hashed the copy again")
	}
	if err := g.RecordReads(); err != nil {
		t.Fatal(err)
	}
	if err := f.RecordReads(); err != nil { // nothing held any more
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, sp), recorded) {
		t.Fatal("reading a recorded file wrote the state")
	}
}

// RecordReads after a write of the same File keeps the written file in
// the state, not the copy read before it.
func TestRecordReadsAfterWrite(t *testing.T) {
	path, opts, _ := copiedStore(t)
	f, _ := readCopy(t, path, opts)
	if err := f.Set(context.Background(), "K2", []byte("w")); err != nil {
		t.Fatal(err)
	}
	if err := f.RecordReads(); err != nil {
		t.Fatal(err)
	}
	st, _ := f.loadState()
	fi, _ := os.Stat(path)
	if st == nil || st.last != idOf(fi) {
		t.Fatal("RecordReads replaced the written file's record with the copy read before")
	}
}

// Without a state directory RecordReads does nothing.
func TestRecordReadsNoState(t *testing.T) {
	path, opts, _ := copiedStore(t)
	opts.StateDir = ""
	f, hashed := readCopy(t, path, opts)
	if hashed {
		t.Fatal("a read without the check held a record")
	}
	if err := f.RecordReads(); err != nil {
		t.Fatal(err)
	}
}
