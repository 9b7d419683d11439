package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store/internal/lock"
)

// The store is ciphertext meant to be shared: modes that let group or
// others read it are accepted (a git checkout under umask 022 is 0644).
var readableModes = []os.FileMode{0o600, 0o400, 0o640, 0o604, 0o644, 0o444}

// Modes that let group or others write it, and so replace its secrets.
var writableModes = []os.FileMode{0o664, 0o666, 0o620, 0o602, 0o660, 0o606, 0o622}

// A store that group or others can read is accepted; one they can write is
// refused, naming the path, both when opened and when an open File finds
// it loosened later; nothing is written to it. The
// AllowInsecurePermissions option accepts it; the environment does not.
func TestStorePermissions(t *testing.T) {
	ctx := context.Background()
	_, p, opts := storeWithK(t)
	open := mustOpen(t, p, opts)
	for _, mode := range readableModes {
		t.Run(fmt.Sprintf("%04o accepted", mode), func(t *testing.T) {
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(p, 0o600)
			if _, err := mustOpen(t, p, opts).Get(ctx, "K"); err != nil {
				t.Fatalf("a fresh File: %v", err)
			}
			if _, err := open.Get(ctx, "K"); err != nil {
				t.Fatalf("an open File: %v", err)
			}
		})
	}
	for _, mode := range writableModes {
		t.Run(fmt.Sprintf("%04o refused", mode), func(t *testing.T) {
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(p, 0o600)
			before := mustReadFile(t, p)
			_, err := Open(p, opts)
			checkPermError(t, "open", err, p, ReasonMode)
			v, err := open.Get(ctx, "K")
			checkPermError(t, "get on an open File", err, p, ReasonMode)
			if v != nil {
				t.Fatal("get returned data")
			}
			_, err = open.List(ctx)
			checkPermError(t, "list on an open File", err, p, ReasonMode)
			err = open.Set(ctx, "K2", []byte("v"))
			checkPermError(t, "set on an open File", err, p, ReasonMode)
			if !bytes.Equal(before, mustReadFile(t, p)) {
				t.Fatal("a refused set changed the store")
			}
			if !strings.Contains(err.Error(), "writable by group or others") {
				t.Fatalf("the error %q does not say what is wrong", err)
			}

			if _, err := mustOpen(t, p, Options{Identities: opts.Identities, AllowInsecurePermissions: true}).Get(ctx, "K"); err != nil {
				t.Fatalf("AllowInsecurePermissions: %v", err)
			}
			// The library reads no environment: only the CLI maps
			// HUSH_ALLOW_INSECURE_PERMS=1 to the option.
			t.Setenv("HUSH_ALLOW_INSECURE_PERMS", "1")
			_, err = Open(p, opts)
			checkPermError(t, "get with HUSH_ALLOW_INSECURE_PERMS=1 in the environment", err, p, ReasonMode)
		})
	}
}

// A store whose directory group or others can write is refused: they
// could rename another file over it. A sticky directory (as /tmp) is
// accepted, since there only the owner may replace or remove the store.
// Create refuses such a directory too, so no store is made that every
// later command would refuse. For a symlinked store, the target's
// directory counts as well as the link's.
func TestStoreDirectoryPermissions(t *testing.T) {
	ctx := context.Background()
	id := newX25519(t)
	opts := Options{Identities: []age.Identity{id}}
	rs := []string{id.Recipient().String()}
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o700, true}, {0o755, true}, {0o750, true},
		{0o770, false}, {0o730, false}, {0o777, false}, {0o703, false}, {0o757, false},
		{os.ModeSticky | 0o777, true}, {os.ModeSticky | 0o770, true},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			p := filepath.Join(dir, "store.age")
			if _, err := Create(ctx, p, rs, opts); err != nil {
				t.Fatal(err)
			}
			mustChmod(t, dir, tc.mode)
			_, err := Open(p, opts)
			q := filepath.Join(dir, "other.age")
			_, cerr := Create(ctx, q, rs, opts)
			if tc.ok {
				if err != nil || cerr != nil {
					t.Fatalf("open: %v; create: %v", err, cerr)
				}
				return
			}
			pe := checkPermError(t, "open", err, p, ReasonDirectory)
			if pe.Dir != dir || !strings.Contains(err.Error(), dir) {
				t.Fatalf("the error %q names directory %q; want %s", err, pe.Dir, dir)
			}
			checkPermError(t, "create", cerr, q, ReasonDirectory)
			if _, err := os.Lstat(q); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a refused create left %s: %v", q, err)
			}
			allow := Options{Identities: opts.Identities, AllowInsecurePermissions: true}
			if _, err := mustOpen(t, p, allow).Get(ctx, "none"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("AllowInsecurePermissions: %v", err)
			}
		})
	}
	t.Run("symlink into a group-writable directory", func(t *testing.T) {
		base := t.TempDir()
		shared := filepath.Join(base, "shared")
		target := filepath.Join(shared, "store.age")
		if _, err := Create(ctx, target, rs, opts); err != nil {
			t.Fatal(err)
		}
		mustChmod(t, shared, 0o770)
		link := filepath.Join(base, "mine", "store.age")
		if err := os.Mkdir(filepath.Dir(link), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		_, err := Open(link, opts)
		if pe := checkPermError(t, "open", err, link, ReasonDirectory); pe.Dir != shared {
			t.Fatalf("refused for directory %s; want %s", pe.Dir, shared)
		}
		mustChmod(t, shared, 0o700)
		if _, err := mustOpen(t, link, opts).Get(ctx, "none"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("through the link, all private: %v", err)
		}
	})
}

// A store with another hard link is refused: the other name, perhaps in a
// directory someone else controls, can change it in place.
func TestStoreHardLinked(t *testing.T) {
	ctx := context.Background()
	f, p, opts := storeWithK(t)
	other := filepath.Join(t.TempDir(), "planted.age")
	if err := os.Link(p, other); err != nil {
		t.Fatal(err)
	}
	_, err := Open(p, opts)
	if pe := checkPermError(t, "open", err, p, ReasonLinks); pe.Links != 2 {
		t.Fatalf("Links = %d; want 2", pe.Links)
	}
	_, err = f.Get(ctx, "K") // cached before the link was made
	checkPermError(t, "get on an open File", err, p, ReasonLinks)
	if _, err := mustOpen(t, p, Options{Identities: opts.Identities, AllowInsecurePermissions: true}).Get(ctx, "K"); err != nil {
		t.Fatalf("AllowInsecurePermissions: %v", err)
	}
	if err := os.Remove(other); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(ctx, "K"); err != nil {
		t.Fatalf("the link removed: %v", err)
	}
}

// A store or lock file owned by another user is refused (they could
// rewrite it); one owned by root is accepted. Needs root to chown.
func TestStoreOwnedByAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another uid (chown)")
	}
	ctx := context.Background()
	f, p, opts := storeWithK(t)
	for _, file := range []string{p, f.LockPath()} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if err := os.Chown(file, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			defer os.Chown(file, 0, 0)
			_, err := Open(p, opts)
			if pe := checkPermError(t, "open", err, file, ReasonOwner); pe.UID != 65534 {
				t.Fatalf("UID = %d; want 65534", pe.UID)
			}
			if file == p {
				_, err = f.Get(ctx, "K")
				checkPermError(t, "get on an open File", err, file, ReasonOwner)
			}
			if _, err := mustOpen(t, p, Options{Identities: opts.Identities, AllowInsecurePermissions: true}).Get(ctx, "K"); err != nil {
				t.Fatalf("AllowInsecurePermissions: %v", err)
			}
		})
	}
	if _, err := mustOpen(t, p, opts).Get(ctx, "K"); err != nil {
		t.Fatalf("owned by root: %v", err)
	}
}

// Something other than a regular file at the lock path (a planted
// symbolic link, a FIFO, a directory) is refused by Open and Create, even
// with AllowInsecurePermissions, and nothing is created where a link
// points. A link planted after Open is refused by the write itself.
func TestStoreLockNotRegular(t *testing.T) {
	ctx := context.Background()
	id := newX25519(t)
	opts := Options{Identities: []age.Identity{id}}
	rs := []string{id.Recipient().String()}
	allow := Options{Identities: opts.Identities, AllowInsecurePermissions: true}
	plants := map[string]func(t *testing.T, at, target string){
		"symlink": func(t *testing.T, at, target string) {
			if err := os.Symlink(target, at); err != nil {
				t.Fatal(err)
			}
		},
		"fifo": func(t *testing.T, at, _ string) {
			if err := syscall.Mkfifo(at, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"directory": func(t *testing.T, at, _ string) {
			if err := os.Mkdir(at, 0o700); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, plant := range plants {
		t.Run(name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "elsewhere")
			f, p := mustCreate(t, rs, opts)
			if err := f.Set(ctx, "K", []byte("v")); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(f.LockPath()); err != nil {
				t.Fatal(err)
			}
			plant(t, f.LockPath(), target)
			before := mustReadFile(t, p)
			for _, o := range []Options{opts, allow} {
				_, err := Open(p, o)
				checkPermError(t, "open", err, f.LockPath(), ReasonNotRegular)
			}
			err := f.Set(ctx, "K", []byte("w"))
			if !errors.Is(err, lock.ErrNotRegular) {
				t.Fatalf("set on an open File: %v; want ErrNotRegular", err)
			}
			q := filepath.Join(t.TempDir(), "new.age")
			plant(t, q+".lock", target)
			_, err = Create(ctx, q, rs, opts)
			checkPermError(t, "create", err, q+".lock", ReasonNotRegular)
			if _, err := os.Lstat(q); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a refused create made the store: %v", err)
			}
			if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("something was created where the link points: %v", err)
			}
			if !bytes.Equal(before, mustReadFile(t, p)) {
				t.Fatal("the store changed")
			}
		})
	}
}

func mustChmod(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(p, 0o700) }) // so the test's directory can be removed
}

func checkPermError(t *testing.T, what string, err error, path string, reason PermissionReason) *PermissionError {
	t.Helper()
	if !errors.Is(err, ErrInsecurePermissions) {
		t.Fatalf("%s: %v; want ErrInsecurePermissions", what, err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("%s: the error %q does not name %s", what, err, path)
	}
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Path != path {
		t.Fatalf("%s: no *PermissionError with the path in %v", what, err)
	}
	if pe.Reason != reason {
		t.Fatalf("%s: reason %d (%v); want %d", what, pe.Reason, err, reason)
	}
	return pe
}

// Created files are 0600 and created directories 0700, and every
// replacement of the store keeps 0600.
func TestCreatedModes(t *testing.T) {
	ctx := context.Background()
	id := newX25519(t)
	base := t.TempDir()
	p := filepath.Join(base, "a", "b", "store.age")
	for _, armored := range []bool{false, true} {
		p := p
		if armored {
			p = filepath.Join(base, "c", "store.age")
		}
		opts := Options{Identities: []age.Identity{id}, Armor: armored}
		f, err := Create(ctx, p, []string{id.Recipient().String()}, opts)
		if err != nil {
			t.Fatal(err)
		}
		check := func(step string) {
			t.Helper()
			for _, file := range []string{p, f.LockPath()} {
				checkMode(t, step, file, 0o600)
			}
			for d := filepath.Dir(p); d != base; d = filepath.Dir(d) {
				checkMode(t, step, d, os.ModeDir|0o700)
			}
			entries, _ := os.ReadDir(filepath.Dir(p))
			for _, e := range entries {
				if n := e.Name(); n != "store.age" && n != "store.age.lock" {
					t.Errorf("%s: stray file %s next to the store", step, n)
				}
			}
		}
		check("create")
		if err := f.Set(ctx, "K", []byte("v")); err != nil {
			t.Fatal(err)
		}
		check("set")
		if err := f.Rekey(ctx); err != nil {
			t.Fatal(err)
		}
		check("rekey")
	}
}

func checkMode(t *testing.T, step, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Errorf("after %s, %s has mode %v; want %v", step, path, fi.Mode(), want)
	}
}

// A cached read checks the file's own mode, owner and links too: the cache
// key holds ctime, which a chmod or link changes, but only as finely as
// the kernel's clock tick, so a change right after a read can keep it.
// The test makes the cache match the loosened file, as such a tick would.
func TestStorePermissionsOnCacheHit(t *testing.T) {
	ctx := context.Background()
	id := newX25519(t)
	f, p := mustCreate(t, []string{id.Recipient().String()}, Options{Identities: []age.Identity{id}})
	if err := f.Set(ctx, "K", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(ctx, "K"); err != nil {
		t.Fatal(err)
	}
	mustChmod(t, p, 0o666)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.cacheID = idOf(fi)
	f.mu.Unlock()
	_, err = f.Get(ctx, "K")
	checkPermError(t, "a cached get", err, p, ReasonMode)
}

// storeWithK creates a store holding K=v, returning it, its path and the
// options that open it.
func storeWithK(t *testing.T) (*File, string, Options) {
	t.Helper()
	id := newX25519(t)
	opts := Options{Identities: []age.Identity{id}}
	f, p := mustCreate(t, []string{id.Recipient().String()}, opts)
	if err := f.Set(context.Background(), "K", []byte("v")); err != nil {
		t.Fatal(err)
	}
	return f, p, opts
}
