package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
)

// On a store as read from its file, TxNames finds the names with a
// prefix by binary search in the decoded entries: the same names as the
// List of the Tx with the prefix.
func TestNamesOfDecodedFile(t *testing.T) {
	ctx := context.Background()
	f, p, opts := newFileStore(t)
	all := []string{"A", "AB", "ABC", "ABD", "B", "B_1", "B_2", "C", "__hush_s_X"}
	vals := make([][]byte, len(all))
	for i := range vals {
		vals[i] = []byte("v")
	}
	if err := f.Update(ctx, func(tx Tx) error { return TxSetMany(tx, all, vals) }); err != nil {
		t.Fatal(err)
	}
	g := mustOpen(t, p, opts)
	err := g.Update(ctx, func(tx Tx) error {
		if d := tx.(*docTx).doc; d.base == nil || d.base.decoded == nil || len(d.keys) != 0 {
			t.Fatal("the Tx of a store read anew is not a clone of the decoded file")
		}
		for _, prefix := range []string{"", "A", "AB", "ABC", "ABE", "B_", "C", "D", "__hush_", "0", "~"} {
			var want []string
			for _, n := range all {
				if strings.HasPrefix(n, prefix) {
					want = append(want, n)
				}
			}
			if got, err := TxNames(tx, prefix); err != nil || !slices.Equal(got, want) {
				t.Errorf("TxNames(%q) = %q, %v; want %q", prefix, got, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Values through the cursor on a store read anew, over its decoded
// entries and a batch's changes (set, bulk, deleted): the names in
// order, in reverse, with repeats and absent names between them, give
// what Get gives.
func TestValuesCursor(t *testing.T) {
	ctx := context.Background()
	f, p, opts := newFileStore(t)
	var base []string
	var vals [][]byte
	for i := range 30 {
		base = append(base, fmt.Sprintf("K%02d", i))
		vals = append(vals, []byte(fmt.Sprint("v", i)))
	}
	if err := f.Update(ctx, func(tx Tx) error { return TxSetMany(tx, base, vals) }); err != nil {
		t.Fatal(err)
	}
	err := mustOpen(t, p, opts).Update(ctx, func(tx Tx) error {
		if err := tx.Set("K05", []byte("set")); err != nil {
			return err
		}
		if err := tx.Delete("K10"); err != nil {
			return err
		}
		if err := TxSetMany(tx, []string{"L1", "L2", "L3"}, [][]byte{[]byte("l1"), []byte("l2"), []byte("l3")}); err != nil {
			return err
		}
		all := append(slices.Clone(base), "L1", "L2", "L3")
		orders := [][]string{all, slices.Clone(all), {"K01", "K01", "A", "K02", "K04", "K03", "K05", "K06", "K10", "K11", "L2", "L1", "L3", "Z"}}
		slices.Reverse(orders[1])
		for _, names := range orders {
			got, err := TxValues(tx, names)
			if err != nil {
				return err
			}
			for i, n := range names {
				want, err := tx.Get(n)
				if errors.Is(err, ErrNotFound) {
					want = nil
				} else if err != nil {
					return err
				}
				if !bytes.Equal(got[i], want) || (got[i] == nil) != (want == nil) {
					t.Errorf("Values: %s = %q, Get gives %q", n, got[i], want)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// DeleteMany through the cursor: absent names, before, between and
	// after present ones, change nothing; present ones, in any order, go.
	err = mustOpen(t, p, opts).Update(ctx, func(tx Tx) error {
		if err := TxDeleteMany(tx, []string{"A", "K00a", "K01a", "K0", "Z"}); err != nil {
			return err
		}
		if tx.(*docTx).changed {
			t.Error("a DeleteMany of absent names changed the Tx")
		}
		return TxDeleteMany(tx, []string{"K03", "K01", "K01a", "K02", "K29", "K28"})
	})
	if err != nil {
		t.Fatal(err)
	}
	es, err := mustOpen(t, p, opts).List(ctx)
	if err != nil || len(es) != 30-1-5+3 || es[1].Name != "K04" {
		t.Fatalf("after DeleteMany, List = %v, %v; want K00, K04 to K27 but K10, L1 to L3", es, err)
	}
}

// newFileStore creates an empty store file in a temporary directory with
// a new X25519 identity as its one recipient, and returns it, its path
// and the options that open it again.
func newFileStore(t *testing.T) (f *File, path string, opts Options) {
	t.Helper()
	id := newX25519(t)
	opts = Options{Identities: []age.Identity{id}}
	path = filepath.Join(t.TempDir(), "store.age")
	f, err := Create(context.Background(), path, []string{id.Recipient().String()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return f, path, opts
}
