package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/store"
)

// testBulkDelete checks store.TxDeleteMany in p's Update (p's own method,
// when its Tx has it) against a loop of Delete calls on q, a second
// provider like p: the same errors, the same store after, nothing
// written by a batch that fails, and the values of a batch's own changes
// read back after deletions merged before them (as migrate does: new
// names set in one batch, old names sorting before them deleted in the
// next).
func testBulkDelete(t *testing.T, p, q store.Provider) {
	t.Helper()
	if _, ok := p.(store.Updater); !ok {
		t.Skip("provider has no atomic batches")
	}
	ctx := context.Background()
	seed := []string{"a", "b", "c", "d", "e", "f"}
	for _, s := range []store.Provider{p, q} {
		for _, n := range seed {
			mustSet(t, s, n, "v"+n)
		}
	}
	run := func(what string, fn func(tx store.Tx) error) error {
		t.Helper()
		errP := store.Update(ctx, p, fn)
		errQ := store.Update(ctx, q, func(tx store.Tx) error { return fn(perKey{tx}) })
		if (errP == nil) != (errQ == nil) || errP != nil && errP.Error() != errQ.Error() {
			t.Errorf("%s: bulk gave %v, a loop %v", what, errP, errQ)
		}
		if dp, dq := Dump(t, p), Dump(t, q); !maps.Equal(dp, dq) {
			t.Errorf("%s: bulk left %q, a loop %q", what, dp, dq)
		}
		return errP
	}

	before := Contents(t, p)
	for _, bad := range unreadableNames() {
		err := run("TxDeleteMany with "+bad, func(tx store.Tx) error {
			return store.TxDeleteMany(tx, []string{"a", bad, "b"})
		})
		wantInvalidName(t, "TxDeleteMany", bad, err)
		var ke *store.KeyError
		if !errors.As(err, &ke) || ke.Op != "delete" || ke.Name != bad {
			t.Errorf("TxDeleteMany with %q: error %v is not a *store.KeyError for delete naming it", bad, err)
		}
		if after := Contents(t, p); !maps.Equal(after, before) {
			t.Fatalf("a TxDeleteMany refused for %q wrote %v", bad, after)
		}
	}

	// Unsorted, absent names, a name twice, a name set earlier in the Tx,
	// and an empty call.
	if err := run("TxDeleteMany", func(tx store.Tx) error {
		if err := tx.Set("b", []byte("new")); err != nil {
			return err
		}
		if err := store.TxDeleteMany(tx, nil); err != nil {
			return err
		}
		return store.TxDeleteMany(tx, []string{"e", "missing", "b", "a", "e"})
	}); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(Dump(t, p))); !slices.Equal(got, []string{"c", "d", "f"}) {
		t.Errorf("after TxDeleteMany the store holds %q, want c, d, f", got)
	}

	// New names set in bulk after every name, then, in the same batch
	// and in the next, names before them deleted and the new values read
	// back; then one of the new names deleted with an old one.
	newNames := []string{"~1", "~2", "~3"}
	newVals := [][]byte{[]byte("one"), []byte("two"), {0xff}}
	check := func(tx store.Tx, want [][]byte) error {
		got, err := store.TxValues(tx, newNames)
		if err != nil {
			return err
		}
		for i := range want {
			if string(got[i]) != string(want[i]) || (got[i] == nil) != (want[i] == nil) {
				return errors.New("a value read back after the deletions differs: " + newNames[i])
			}
		}
		return nil
	}
	if err := run("TxSetMany then TxDeleteMany", func(tx store.Tx) error {
		if err := store.TxSetMany(tx, newNames, newVals); err != nil {
			return err
		}
		if err := store.TxDeleteMany(tx, []string{"c"}); err != nil {
			return err
		}
		return check(tx, newVals)
	}); err != nil {
		t.Fatal(err)
	}
	if err := run("TxDeleteMany after a batch's TxSetMany", func(tx store.Tx) error {
		if err := check(tx, newVals); err != nil {
			return err
		}
		if err := store.TxDeleteMany(tx, []string{"d"}); err != nil {
			return err
		}
		if err := check(tx, newVals); err != nil {
			return err
		}
		if err := store.TxDeleteMany(tx, []string{"f", "~2"}); err != nil {
			return err
		}
		return check(tx, [][]byte{newVals[0], nil, newVals[2]})
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"~1": "one", "~3": "\xff"}
	if got := Dump(t, p); !maps.Equal(got, want) {
		t.Errorf("after the bulk batches the store holds %q, want %q", got, want)
	}
}
