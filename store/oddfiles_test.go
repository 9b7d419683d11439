package store_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hush-secrets/hush/store"
)

func lstatType(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Type()
}

func mustGet(t *testing.T, f *store.File, name, want string) {
	t.Helper()
	v, err := f.Get(context.Background(), name)
	if err != nil || string(v) != want {
		t.Fatalf("%s: Get(%s) = %q, %v; want %q", f.Path(), name, v, err, want)
	}
}

// A store path that is a symbolic link (a dotfile manager, a synced
// folder): a write through the link replaces the link's target in the
// target's directory and leaves the link; a long-lived reader of the link
// and one of the target, both with a warm cache, see every write made
// through either; both take the one lock beside the target, and no temp
// file is left in either directory.
func TestSymlinkedStore(t *testing.T) {
	ctx := context.Background()
	made, ident := newStore(t)
	dir := t.TempDir()
	synced := filepath.Join(dir, "synced")
	home := filepath.Join(dir, "home")
	for _, d := range []string{synced, home} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(synced, "store.age")
	if err := os.Rename(made.Path(), target); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(home, "store.age")
	if err := os.Symlink("../synced/store.age", link); err != nil {
		t.Fatal(err)
	}

	viaLink, viaTarget := openAs(t, link, ident), openAs(t, target, ident)
	readLink, readTarget := openAs(t, link, ident), openAs(t, target, ident)
	if viaLink.LockPath() != target+".lock" {
		t.Fatalf("lock through the link at %s, want beside the target: %s", viaLink.LockPath(), target+".lock")
	}
	// A temp file a killed writer left beside the target is removed by
	// the next write through the link.
	stray := filepath.Join(synced, ".store.age.tmp-killed")
	if err := os.WriteFile(stray, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := viaLink.Set(ctx, "seed", []byte("0")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(stray); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the stray beside the target is still there after a write through the link: %v", err)
	}
	mustGet(t, readLink, "seed", "0") // warm both caches
	mustGet(t, readTarget, "seed", "0")

	for i, w := range []*store.File{viaLink, viaTarget, viaLink} {
		before, err := os.Stat(target)
		if err != nil {
			t.Fatal(err)
		}
		v := strings.Repeat("v", i+1)
		if err := w.Set(ctx, "k", []byte(v)); err != nil {
			t.Fatalf("write %d through %s: %v", i, w.Path(), err)
		}
		if lstatType(t, link) != fs.ModeSymlink {
			t.Fatalf("write %d: the store link was replaced", i)
		}
		if after, _ := os.Stat(target); os.SameFile(before, after) {
			t.Fatalf("write %d: the target was not replaced by a new file", i)
		}
		for _, r := range []*store.File{readLink, readTarget, viaLink, viaTarget} {
			mustGet(t, r, "k", v)
		}
	}
	for _, d := range []string{home, synced} {
		des, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range des {
			if n := de.Name(); n != "store.age" && n != "store.age.lock" || d == home && n != "store.age" {
				t.Errorf("left in %s: %s", d, n)
			}
		}
	}
}

// A store path holding a named pipe, a directory or a dangling link:
// Open and Create refuse with ErrNotRegular, at once (nothing waits on the
// pipe for a writer), and nothing is created: no lock file, no directory,
// no file where the dangling link points, the pipe still a pipe.
func TestStoreNotRegular(t *testing.T) {
	ctx := context.Background()
	_, ident := newStore(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.age")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir.age")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.age")
	if err := os.Symlink("elsewhere/store.age", dangling); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, sub, dangling} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			typ := lstatType(t, path)
			done := make(chan error, 2)
			go func() {
				_, err := createAs(ctx, path, ident)
				done <- err
				o := store.Options{}
				_, err = store.Open(path, o)
				done <- err
			}()
			for i, op := range []string{"Create", "Open"} {
				select {
				case err := <-done:
					if path == dangling && op == "Open" {
						// Nothing to read there: a missing store.
						if !errors.Is(err, store.ErrNoStore) {
							t.Fatalf("Open = %v, want ErrNoStore", err)
						}
						continue
					}
					var se *store.StoreError
					if !errors.Is(err, store.ErrNotRegular) || !errors.As(err, &se) || se.Path != path {
						t.Fatalf("%s = %v, want a *StoreError for %s wrapping ErrNotRegular", op, err, path)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("%s (step %d) still blocked after 10s", op, i)
				}
			}
			if lstatType(t, path) != typ {
				t.Fatalf("%s changed type", path)
			}
			des, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(des) != 3 {
				var names []string
				for _, de := range des {
					names = append(names, de.Name())
				}
				t.Fatalf("files in %s: %v, want only the three planted", dir, names)
			}
		})
	}
}

// A store replaced by a named pipe under a long-lived File is refused on
// the next read, at once, rather than read or waited on.
func TestStoreBecomesFIFO(t *testing.T) {
	ctx := context.Background()
	f, ident := newStore(t)
	if err := f.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	reader := openAs(t, f.Path(), ident)
	mustGet(t, reader, "k", "v")
	if err := os.Remove(f.Path()); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(f.Path(), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() {
		_, err := reader.Get(ctx, "k")
		done <- err
		done <- reader.Set(ctx, "k", []byte("w"))
	}()
	for _, op := range []string{"Get", "Set"} {
		select {
		case err := <-done:
			if !errors.Is(err, store.ErrNotRegular) {
				t.Fatalf("%s = %v, want ErrNotRegular", op, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s still blocked after 10s", op)
		}
	}
	if lstatType(t, f.Path()) != fs.ModeNamedPipe {
		t.Fatal("the named pipe was replaced")
	}
}
