package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/store"
)

// testNames checks store.TxNames in p's Update (p's own method, when its
// Tx has it) against the names of the Tx's List with the prefix, before
// and after changes in the Tx, and after they are written.
func testNames(t *testing.T, p store.Provider) {
	t.Helper()
	if _, ok := p.(store.Updater); !ok {
		t.Skip("provider has no atomic batches")
	}
	ctx := context.Background()
	for _, n := range []string{"b1", "a", "ab", "abc", "b2", "zz"} {
		mustSet(t, p, n, "v")
	}
	prefixes := []string{"", "a", "ab", "abc", "abcd", "b", "c", "zz", "~"}
	check := func(what string, tx store.Tx) error {
		t.Helper()
		es, err := tx.List()
		if err != nil {
			return err
		}
		for _, prefix := range prefixes {
			got, err := store.TxNames(tx, prefix)
			if err != nil {
				return err
			}
			want, err := store.TxNames(perKey{tx}, prefix)
			if err != nil {
				return err
			}
			if !slices.Equal(got, want) || !slices.IsSorted(got) {
				t.Errorf("%s: TxNames(%q) = %q, want %q (List: %q)", what, prefix, got, want, names(es))
			}
		}
		return nil
	}
	if err := store.Update(ctx, p, func(tx store.Tx) error { return check("as stored", tx) }); err != nil {
		t.Fatal(err)
	}
	err := store.Update(ctx, p, func(tx store.Tx) error {
		if err := tx.Set("aa", []byte("new")); err != nil {
			return err
		}
		if err := tx.Delete("ab"); err != nil {
			return err
		}
		if err := store.TxSetMany(tx, []string{"~2", "~1"}, [][]byte{[]byte("1"), []byte("2")}); err != nil {
			return err
		}
		return check("after changes in the Tx", tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Update(ctx, p, func(tx store.Tx) error { return check("as written", tx) }); err != nil {
		t.Fatal(err)
	}
}
