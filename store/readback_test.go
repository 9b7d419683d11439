package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

// A batch's read-back check sees the store as written, before it replaces
// the store: the batch's changes, and nothing else, in the file store's
// new file (and the memory store's document encoded and decoded again). A
// check that fails fails the batch with its error: the store file is
// byte for byte what it was, no temp file is left, the memory store counts
// no write. A batch that changes nothing runs no check.
func TestReadBack(t *testing.T) {
	ctx := context.Background()
	f, _ := storetest.NewFile(t)
	for _, p := range []store.Updater{f, store.NewMemory()} {
		if err := p.Update(ctx, func(tx store.Tx) error { return tx.Set("b", []byte("old")) }); err != nil {
			t.Fatal(err)
		}
		var seen [][]byte
		err := p.Update(ctx, func(tx store.Tx) error {
			if err := tx.Set("a", []byte("new")); err != nil {
				return err
			}
			if err := tx.Delete("b"); err != nil {
				return err
			}
			if !store.TxReadBack(tx, func(values func([]string) ([][]byte, error)) error {
				var err error
				seen, err = values([]string{"a", "b"})
				return err
			}) {
				t.Fatal("TxReadBack = false")
			}
			return nil
		})
		if err != nil || len(seen) != 2 || string(seen[0]) != "new" || seen[1] != nil {
			t.Fatalf("%T: Update = %v, check saw %q", p, err, seen)
		}
		// A failing check: nothing written.
		before, _ := os.ReadFile(f.Path())
		var writes int
		if m, ok := p.(*store.Memory); ok {
			writes = m.Writes()
		}
		errCheck := errors.New("check says no")
		err = p.Update(ctx, func(tx store.Tx) error {
			store.TxReadBack(tx, func(values func([]string) ([][]byte, error)) error {
				v, err := values([]string{"a"})
				if err != nil || !bytes.Equal(v[0], []byte("newer")) {
					t.Errorf("%T: the check read %q, %v", p, v, err)
				}
				return errCheck
			})
			return tx.Set("a", []byte("newer"))
		})
		if !errors.Is(err, errCheck) {
			t.Fatalf("%T: Update = %v, want the check's error", p, err)
		}
		if after, _ := os.ReadFile(f.Path()); !bytes.Equal(before, after) {
			t.Fatalf("%T: the store file changed", p)
		}
		if tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(f.Path()), ".*.tmp-*")); len(tmps) != 0 {
			t.Fatalf("temp files left: %v", tmps)
		}
		if m, ok := p.(*store.Memory); ok && m.Writes() != writes {
			t.Fatalf("memory store written after a failed check")
		}
		if v, _ := store.GetMany(ctx, p.(store.Provider), []string{"a"}); !slices.Equal(v[0], []byte("new")) {
			t.Fatalf("%T: a = %q after a failed check", p, v[0])
		}
		// No change, no check.
		err = p.Update(ctx, func(tx store.Tx) error {
			store.TxReadBack(tx, func(func([]string) ([][]byte, error)) error { return errCheck })
			return nil
		})
		if err != nil {
			t.Fatalf("%T: a batch without changes ran its check: %v", p, err)
		}
	}
	// A Tx that forwards each call to a Provider cannot read back.
	err := store.Update(ctx, struct{ store.Provider }{f}, func(tx store.Tx) error {
		if store.TxReadBack(tx, func(func([]string) ([][]byte, error)) error { return nil }) {
			t.Error("TxReadBack = true without atomic batches")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
