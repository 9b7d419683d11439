package store

import (
	"bytes"
	"context"
	"fmt"
	"testing"
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
	f, p, opts := newFileStore(t)
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
				if err := tx.Set("~after", []byte("after")); err != nil { // after the bulk
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
			vals, err := TxValues(tx, append(moved, "~after"))
			if round == 0 && string(vals[len(moved)]) != "after" {
				t.Errorf("round 0: read back ~after = %q", vals[len(moved)])
			}
			for i := range moved {
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
			if err != nil || len(es) != len(moved)+2-round || es[0].Name != old[len(old)-1] {
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
			if err := TxDeleteMany(tx, append(moved, "~after")); err != nil {
				return err
			}
			return TxSetMany(tx, old, values)
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// A name set after a bulk change (migrate's record, after the moved
// keys) is appended without building the bulk's entries; one set inside
// it builds them; every value reads back either way.
func TestSetAfterBulkKeepsIt(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	var names []string
	var values [][]byte
	for i := range 20 {
		names = append(names, fmt.Sprintf("B%03d", i))
		values = append(values, []byte(fmt.Sprint("v", i)))
	}
	values[3] = []byte{0xfe}
	err := m.Update(ctx, func(tx Tx) error {
		if err := TxSetMany(tx, names, values); err != nil {
			return err
		}
		if err := tx.Set("C", []byte("c")); err != nil {
			return err
		}
		if err := TxDeleteMany(tx, []string{"A"}); err != nil {
			return err
		}
		d := tx.(*docTx).doc
		if d.bulk == nil || len(d.keys) != 21 || d.keys[20] != "C" || d.isBulk(20) || !d.isBulk(19) {
			t.Fatalf("after a Set after the bulk: bulk %v, %d changes; want the bulk kept and C after it", d.bulk != nil, len(d.keys))
		}
		got, err := TxValues(tx, append(names, "C"))
		for i := range names {
			if string(got[i]) != string(values[i]) {
				t.Errorf("in the Tx, %s = %q, want %q", names[i], got[i], values[i])
			}
		}
		if string(got[20]) != "c" {
			t.Errorf("in the Tx, C = %q", got[20])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Update(ctx, func(tx Tx) error {
		if err := tx.Set("D", []byte("d")); err != nil {
			return err
		}
		if err := tx.Set("B005", []byte("changed")); err != nil {
			return err
		}
		if d := tx.(*docTx).doc; d.bulk != nil {
			t.Error("a Set inside the bulk kept it unbuilt")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	values[5] = []byte("changed")
	for i, n := range names {
		if v, err := m.Get(ctx, n); err != nil || string(v) != string(values[i]) {
			t.Fatalf("Get(%s) = %q, %v; want %q", n, v, err, values[i])
		}
	}
	if es, err := m.List(ctx); err != nil || len(es) != 22 || es[20].Name != "C" || es[21].Name != "D" {
		t.Fatalf("List = %v, %v; want the 20 bulk names, C and D", es, err)
	}
}
