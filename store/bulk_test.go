package store

import (
	"context"
	"errors"
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

// Values in an empty store (an import into a new one) looks nothing up:
// every name is absent, and a refused name is still refused, with the
// values of the names before it. In a store that holds entries, or once
// the Tx holds a change, the names are looked up.
func TestValuesOfEmptyStore(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	err := m.Update(ctx, func(tx Tx) error {
		vals, err := TxValues(tx, []string{"a", "b", "c"})
		if err != nil || len(vals) != 3 || vals[0] != nil || vals[1] != nil || vals[2] != nil {
			t.Errorf("Values in an empty store = %q, %v; want three nil", vals, err)
		}
		vals, err = TxValues(tx, []string{"a", "", "c"})
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Name != "" || ke.Op != "get" || len(vals) != 1 {
			t.Errorf("Values of a refused name in an empty store = %q, %v; want one value and its *KeyError", vals, err)
		}
		if err := TxSetMany(tx, []string{"b"}, [][]byte{[]byte("in tx")}); err != nil {
			return err
		}
		vals, err = TxValues(tx, []string{"a", "b"})
		if err != nil || vals[0] != nil || string(vals[1]) != "in tx" {
			t.Errorf("Values after a SetMany in the same Tx = %q, %v", vals, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Update(ctx, func(tx Tx) error {
		if err := TxSetMany(tx, []string{"c", "a"}, [][]byte{[]byte("1"), []byte("2")}); err != nil {
			return err
		}
		vals, err := TxValues(tx, []string{"a", "b", "c", "d"})
		if err != nil || string(vals[0]) != "2" || string(vals[1]) != "in tx" || string(vals[2]) != "1" || vals[3] != nil {
			t.Errorf("Values in a store with entries = %q, %v", vals, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
