package store

import (
	"context"
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
	id := newX25519(t)
	opts := Options{Identities: []age.Identity{id}}
	p := filepath.Join(t.TempDir(), "store.age")
	f, err := Create(ctx, p, []string{id.Recipient().String()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"A", "AB", "ABC", "ABD", "B", "B_1", "B_2", "C", "__hush_s_X"}
	vals := make([][]byte, len(all))
	for i := range vals {
		vals[i] = []byte("v")
	}
	if err := f.Update(ctx, func(tx Tx) error { return TxSetMany(tx, all, vals) }); err != nil {
		t.Fatal(err)
	}
	g := mustOpen(t, p, opts)
	err = g.Update(ctx, func(tx Tx) error {
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
