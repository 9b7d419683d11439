package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

var looseModes = []os.FileMode{0o640, 0o604, 0o644, 0o660, 0o606, 0o666, 0o610, 0o601}

// A store that group or others can read is refused, naming the path, both
// when opened and when an open File finds it loosened later; nothing is
// written to it. the AllowInsecurePermissions option allows it.
func TestStorePermissions(t *testing.T) {
	ctx := context.Background()
	id := newX25519(t)
	opts := Options{Identities: []age.Identity{id}}
	f, p := mustCreate(t, []string{id.Recipient().String()}, opts)
	if err := f.Set(ctx, "K", []byte("v")); err != nil {
		t.Fatal(err)
	}
	open := mustOpen(t, p, opts)
	for _, mode := range looseModes {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(p, 0o600)
			before := mustReadFile(t, p)
			_, err := Open(p, opts)
			checkPermError(t, "open", err, p)
			v, err := open.Get(ctx, "K")
			checkPermError(t, "get on an open File", err, p)
			if v != nil {
				t.Fatal("get returned data")
			}
			_, err = open.List(ctx)
			checkPermError(t, "list on an open File", err, p)
			err = open.Set(ctx, "K2", []byte("v"))
			checkPermError(t, "set on an open File", err, p)
			if !bytes.Equal(before, mustReadFile(t, p)) {
				t.Fatal("a refused set changed the store")
			}

			if _, err := mustOpen(t, p, Options{Identities: opts.Identities, AllowInsecurePermissions: true}).Get(ctx, "K"); err != nil {
				t.Fatalf("AllowInsecurePermissions: %v", err)
			}
			// The library reads no environment: only the CLI maps
			// HUSH_ALLOW_INSECURE_PERMS=1 to the option.
			t.Setenv("HUSH_ALLOW_INSECURE_PERMS", "1")
			_, err = Open(p, opts)
			checkPermError(t, "get with HUSH_ALLOW_INSECURE_PERMS=1 in the environment", err, p)
		})
	}
	for _, mode := range []os.FileMode{0o600, 0o400, 0o700} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := mustOpen(t, p, opts).Get(ctx, "K"); err != nil {
			t.Errorf("mode %04o refused: %v", mode, err)
		}
	}
}

func checkPermError(t *testing.T, what string, err error, path string) {
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
