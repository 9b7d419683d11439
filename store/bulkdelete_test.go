package store

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

// Deleting in one call names that sort before a bulk change of an
// earlier batch (migrate: old names, then the new __hush_ names) merges
// them into the change list: no map, the bulk kept unbuilt, and its
// values read back from the bulk's text.
func TestDeleteManyKeepsBulk(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	var old, moved []string
	var values [][]byte
	for i := range 100 {
		old = append(old, fmt.Sprintf("A%03d", i))
		moved = append(moved, fmt.Sprintf("B%03d", i))
		values = append(values, []byte(fmt.Sprint("v", i)))
	}
	if err := m.Update(ctx, func(tx Tx) error { return TxSetMany(tx, old, values) }); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(ctx, func(tx Tx) error { return TxSetMany(tx, moved, values) }); err != nil {
		t.Fatal(err)
	}
	err := m.Update(ctx, func(tx Tx) error {
		if err := TxDeleteMany(tx, old); err != nil {
			return err
		}
		d := tx.(*docTx).doc
		if d.index != nil || d.bulk == nil || len(d.keys) != 200 {
			t.Fatalf("after DeleteMany: index %v, bulk %v, %d changes; want no index, the bulk kept, 200 changes",
				d.index != nil, d.bulk != nil, len(d.keys))
		}
		for i := range 200 {
			if d.isBulk(i) != (i >= 100) || (d.vals[i] == nil) != (i < 100) {
				t.Fatalf("change %d (%s): bulk %v, deleted %v; want the 100 deletions, then the 100 bulk changes", i, d.keys[i], d.isBulk(i), d.vals[i] == nil)
			}
		}
		vals, err := TxValues(tx, moved)
		for i := range vals {
			if string(vals[i]) != string(values[i]) {
				t.Errorf("read back %s = %q, want %q", moved[i], vals[i], values[i])
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	es, err := m.List(ctx)
	if err != nil || len(es) != 100 || es[0].Name != "B000" {
		t.Fatalf("after the deletions List = %d entries (%v), want the 100 moved", len(es), err)
	}
	for i, n := range moved {
		if v, err := m.Get(ctx, n); err != nil || string(v) != string(values[i]) {
			t.Fatalf("Get(%s) = %q, %v; want %q", n, v, err, values[i])
		}
	}
}

// On a file store read anew (its entries the decoded file's), migrate's
// two batches: new names set in bulk after every name, then the old
// names deleted in one call, which go in before the bulk changes and move
// them up; the bulk stays unbuilt, and every value reads back, in the
// batch, from the handle and from the file.
func TestDeleteManyBeforeBulkOfFile(t *testing.T) {
	ctx := context.Background()
	id := newX25519(t)
	opts := Options{Identities: []age.Identity{id}}
	p := filepath.Join(t.TempDir(), "store.age")
	f, err := Create(ctx, p, []string{id.Recipient().String()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var old, moved []string
	var values [][]byte
	for i := range 50 {
		old = append(old, fmt.Sprintf("OLD_%03d", i))
		moved = append(moved, fmt.Sprintf("__hush_s_OLD_%03d", i))
		values = append(values, []byte(fmt.Sprint("v", i)))
	}
	values[7] = []byte{0xff, 0} // not text
	if err := f.Update(ctx, func(tx Tx) error { return TxSetMany(tx, old, values) }); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		g := mustOpen(t, p, opts)
		if round == 1 {
			// As migrate: the copies in one batch, the deletions in the next.
			if err := g.Update(ctx, func(tx Tx) error { return TxSetMany(tx, moved, values) }); err != nil {
				t.Fatal(err)
			}
		}
		err := g.Update(ctx, func(tx Tx) error {
			if round == 0 {
				if err := TxSetMany(tx, moved, values); err != nil {
					return err
				}
			}
			if err := TxDeleteMany(tx, old[:len(old)-1]); err != nil {
				return err
			}
			d := tx.(*docTx).doc
			if d.index != nil || d.bulk == nil || d.bulk.first != len(old)-1 {
				t.Fatalf("round %d: after DeleteMany: index %v, bulk %v; want no index, the bulk kept after the %d deletions",
					round, d.index != nil, d.bulk != nil, len(old)-1)
			}
			vals, err := TxValues(tx, moved)
			for i := range vals {
				if !bytes.Equal(vals[i], values[i]) {
					t.Errorf("round %d: read back %s = %q, want %q", round, moved[i], vals[i], values[i])
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []*File{g, mustOpen(t, p, opts)} {
			es, err := h.List(ctx)
			if err != nil || len(es) != len(moved)+1 || es[0].Name != old[len(old)-1] {
				t.Fatalf("round %d: List = %d entries, %v; want the last old name and the moved", round, len(es), err)
			}
			for i, n := range moved {
				if v, err := h.Get(ctx, n); err != nil || !bytes.Equal(v, values[i]) {
					t.Fatalf("round %d: Get(%s) = %q, %v; want %q", round, n, v, err, values[i])
				}
			}
		}
		// Back to the old names for the next round.
		if err := g.Update(ctx, func(tx Tx) error {
			if err := TxDeleteMany(tx, moved); err != nil {
				return err
			}
			return TxSetMany(tx, old, values)
		}); err != nil {
			t.Fatal(err)
		}
	}
}
