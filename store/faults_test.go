package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/internal/atomicfile/atomicfiletest"
	"github.com/hush-secrets/hush/store"
)

// Each step of the write path made to fail in turn, through atomicfile's
// test seam: the error names the step (errors.As *atomicfile.Error and the
// message) and never the value, no temp file is left, and for every step
// before the rename the store is byte-identical and the writer's own cache
// still serves the old value. A failed directory sync comes after the
// rename: the new store is in place and readable, and the error says the
// change may not be durable (atomicfile.ErrNotDurable); the writer's cache
// then agrees with the file.
func TestWriteFaults(t *testing.T) {
	ctx := context.Background()
	injected := errors.New("injected fault")
	for _, step := range atomicfile.Steps {
		t.Run(string(step), func(t *testing.T) {
			f, ident := newStore(t)
			if err := f.Set(ctx, "k", []byte("old")); err != nil {
				t.Fatal(err)
			}
			var armed atomic.Bool
			atomicfiletest.Inject(t, func(target string, s atomicfile.Step) error {
				if armed.Load() && target == f.Path() && s == step {
					return injected
				}
				return nil
			})
			w := openAs(t, f.Path(), ident)
			if v, err := w.Get(ctx, "k"); err != nil || string(v) != "old" { // cache the old document
				t.Fatalf("Get = %q, %v", v, err)
			}
			before, err := os.ReadFile(f.Path())
			if err != nil {
				t.Fatal(err)
			}
			armed.Store(true)
			secret := []byte("new-secret-value")
			err = w.Set(ctx, "k", secret)
			armed.Store(false)

			var ae *atomicfile.Error
			if !errors.As(err, &ae) || ae.Step != step || !errors.Is(err, injected) {
				t.Fatalf("err = %v, want an *atomicfile.Error for step %q", err, step)
			}
			if !strings.Contains(err.Error(), string(step)) {
				t.Fatalf("message %q does not name the step", err)
			}
			if strings.Contains(err.Error(), string(secret)) {
				t.Fatalf("message %q contains the value", err)
			}
			if s := strays(t, f.Path()); len(s) > 0 {
				t.Fatalf("temp files left: %v", s)
			}
			after, rerr := os.ReadFile(f.Path())
			if rerr != nil {
				t.Fatal(rerr)
			}
			want := "old"
			if step == atomicfile.StepDirSync {
				if !errors.Is(err, atomicfile.ErrNotDurable) {
					t.Fatalf("dir sync error %v does not say the change may not be durable", err)
				}
				want = string(secret)
			} else if !bytes.Equal(before, after) {
				t.Fatalf("the store changed after a failed %s", step)
			}
			if v, err := w.Get(ctx, "k"); err != nil || string(v) != want {
				t.Fatalf("the writer's own Get after a failed %s = %q, %v; want %q", step, v, err, want)
			}
			if v, err := openAs(t, f.Path(), ident).Get(ctx, "k"); err != nil || string(v) != want {
				t.Fatalf("a fresh Get after a failed %s = %q, %v; want %q", step, v, err, want)
			}
			// The writer recovers: its next write goes through, and carries
			// nothing of the failed one.
			if err := w.Set(ctx, "other", []byte("later")); err != nil {
				t.Fatalf("Set after the fault: %v", err)
			}
			fresh := openAs(t, f.Path(), ident)
			if v, err := fresh.Get(ctx, "other"); err != nil || string(v) != "later" {
				t.Fatalf("Get after recovery = %q, %v", v, err)
			}
			if v, err := fresh.Get(ctx, "k"); err != nil || string(v) != want {
				t.Fatalf("after a failed %s and a later write, k = %q, %v; want %q", step, v, err, want)
			}
		})
	}
}

// A failed batch that touched several keys leaves none of them visible
// through the writer's cache, nor in the writer's next successful write;
// a failed Create leaves no store.
func TestWriteFaultBatchAndCreate(t *testing.T) {
	ctx := context.Background()
	f, ident := newStore(t)
	path := t.TempDir() + "/new/store.age"
	var armed atomic.Bool
	armed.Store(true)
	atomicfiletest.Inject(t, func(target string, s atomicfile.Step) error {
		switch {
		case target == f.Path() && armed.Load() && s == atomicfile.StepRename:
			return errors.New("disk full")
		case target == path && s == atomicfile.StepSync:
			return errors.New("io error")
		}
		return nil
	})
	w := openAs(t, f.Path(), ident)
	err := w.Update(ctx, func(tx store.Tx) error {
		for _, n := range []string{"a", "b", "c"} {
			if err := tx.Set(n, []byte(n)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		t.Fatal("batch succeeded despite the fault")
	}
	if es, err := w.List(ctx); err != nil || len(es) != 0 {
		t.Fatalf("after a failed batch the writer lists %v, %v", es, err)
	}
	armed.Store(false)
	if err := w.Set(ctx, "d", []byte("d")); err != nil {
		t.Fatal(err)
	}
	if es, err := openAs(t, f.Path(), ident).List(ctx); err != nil || len(es) != 1 || es[0].Name != "d" {
		t.Fatalf("after a failed batch and another write the store lists %v, %v; want only d", es, err)
	}

	_, err = createAs(ctx, path, ident)
	var ae *atomicfile.Error
	if !errors.As(err, &ae) || ae.Step != atomicfile.StepSync {
		t.Fatalf("Create with a failing sync: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed Create left a store: %v", err)
	}
	if s := strays(t, path); len(s) > 0 {
		t.Fatalf("temp files left: %v", s)
	}
}

// A temp file left by a writer killed in mid-write is removed by the next
// write (which holds the lock, so no live writer owns a temp file then);
// other files beside the store are left alone.
func TestStrayTempRemovedByNextWrite(t *testing.T) {
	ctx := context.Background()
	f, _ := newStore(t)
	dir := filepath.Dir(f.Path())
	stray := filepath.Join(dir, atomicfile.TempPrefix(f.Path())+"0123456789abcdef")
	other := filepath.Join(dir, "notes.txt")
	for _, p := range []string{stray, other} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stray temp file still there after a write: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("a write removed an unrelated file: %v", err)
	}
}
