package store

import (
	"context"
	"fmt"
	"testing"
)

// A SetMany of names after every change the Tx holds (an import into a
// store) keeps them as one bulkSet, building no entry a name, and the
// store reads and writes them as any others, in that write and the next.
func TestSetManyBuildsNoEntries(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	var names []string
	var values [][]byte
	for i := range 100 {
		names = append(names, fmt.Sprintf("K%03d", (i*37)%100)) // unsorted
		values = append(values, []byte(fmt.Sprint("v", (i*37)%100)))
	}
	values[5] = []byte{0xff} // one that is not text
	if err := m.Update(ctx, func(tx Tx) error { return TxSetMany(tx, names, values) }); err != nil {
		t.Fatal(err)
	}
	d := m.m.doc
	if d.bulk == nil || len(d.keys) != 100 || d.bulk.first != 0 {
		t.Fatalf("SetMany of 100 new names into an empty store: bulk %v, %d changes; want one bulkSet of 100", d.bulk != nil, len(d.keys))
	}
	for i, n := range names {
		if v, err := m.Get(ctx, n); err != nil || string(v) != string(values[i]) {
			t.Fatalf("Get(%s) = %q, %v; want %q", n, v, err, values[i])
		}
	}
	// The next write (a clone of a clone) changes one bulk name and adds
	// one: the bulk's entries are built then, and every value survives.
	err := m.Update(ctx, func(tx Tx) error {
		if err := tx.Set("K050", []byte("changed")); err != nil {
			return err
		}
		return TxSetMany(tx, []string{"Z"}, [][]byte{[]byte("z")})
	})
	if err != nil {
		t.Fatal(err)
	}
	if es, err := m.List(ctx); err != nil || len(es) != 101 {
		t.Fatalf("List after a second write = %d entries, %v; want 101", len(es), err)
	}
	for i, n := range names {
		want := string(values[i])
		if n == "K050" {
			want = "changed"
		}
		if v, err := m.Get(ctx, n); err != nil || string(v) != want {
			t.Fatalf("after a second write, Get(%s) = %q, %v; want %q", n, v, err, want)
		}
	}
}
