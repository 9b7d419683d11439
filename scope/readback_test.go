package scope_test

import (
	"context"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// A view's Tx reads back as the store underneath does, with the view's
// names mapped to their keys; a read-only view cannot read back.
func TestViewReadBack(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	v, err := scope.Scoped(f, "s")
	if err != nil {
		t.Fatal(err)
	}
	var seen [][]byte
	err = v.Update(ctx, func(tx store.Tx) error {
		if !store.TxReadBack(tx, func(values func([]string) ([][]byte, error)) error {
			var err error
			seen, err = values([]string{"x", "y"})
			return err
		}) {
			t.Fatal("TxReadBack = false on a scoped view of a file store")
		}
		return tx.Set("x", []byte("v"))
	})
	if err != nil || len(seen) != 2 || string(seen[0]) != "v" || seen[1] != nil {
		t.Fatalf("Update = %v, check saw %q", err, seen)
	}
	if got, err := f.Get(ctx, scope.Key("s", "x")); err != nil || string(got) != "v" {
		t.Fatalf("stored key = %q, %v", got, err)
	}
	err = scope.ReadOnly(f).Update(ctx, func(tx store.Tx) error {
		if store.TxReadBack(tx, func(func([]string) ([][]byte, error)) error { return nil }) {
			t.Error("TxReadBack = true on a read-only view")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
