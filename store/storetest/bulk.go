package storetest

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/store"
)

// perKey hides the bulk methods of a Tx, so that store.TxValues and
// store.TxSetMany take their loop of Get or Set calls.
type perKey struct{ store.Tx }

// testBulk checks store.TxValues and store.TxSetMany in p's Update
// (p's own methods, when its Tx has them) against the same calls through
// a loop of Get or Set, on q, a second provider like p: the same values,
// the same errors, the same store after, and nothing written by a batch
// that fails.
func testBulk(t *testing.T, p, q store.Provider) {
	t.Helper()
	if _, ok := p.(store.Updater); !ok {
		t.Skip("provider has no atomic batches")
	}
	ctx := context.Background()
	seed := map[string]string{"keep": "same", "over": "old", "empty": "", "nul": "\x00"}
	for _, s := range []store.Provider{p, q} {
		for _, n := range slices.Sorted(maps.Keys(seed)) {
			mustSet(t, s, n, seed[n])
		}
		if err := store.Update(ctx, s, func(tx store.Tx) error { return tx.SetDescription("over", "kept") }); err != nil {
			t.Fatal(err)
		}
	}
	before := Contents(t, p)
	time.Sleep(2 * time.Millisecond) // so that a rewritten entry shows a later Updated

	// run calls fn in an Update of p with p's Tx, and of q with its bulk
	// methods hidden, and checks that both give the same error.
	run := func(what string, fn func(tx store.Tx) error) (errP, errQ error) {
		t.Helper()
		errP = store.Update(ctx, p, fn)
		errQ = store.Update(ctx, q, func(tx store.Tx) error { return fn(perKey{tx}) })
		if (errP == nil) != (errQ == nil) || errP != nil && errP.Error() != errQ.Error() {
			t.Errorf("%s: bulk gave %v, a loop %v", what, errP, errQ)
		}
		return errP, errQ
	}
	same := func(what string) {
		t.Helper()
		if dp, dq := Dump(t, p), Dump(t, q); !maps.Equal(dp, dq) {
			t.Errorf("%s: bulk left %q, a loop %q", what, dp, dq)
		}
	}

	read := []string{"missing", "keep", "empty", "nul", "over", "also-missing"}
	var got [2][][]byte
	for k, s := range []store.Provider{p, q} {
		err := store.Update(ctx, s, func(tx store.Tx) error {
			if k == 1 {
				tx = perKey{tx}
			}
			var err error
			got[k], err = store.TxValues(tx, read)
			return err
		})
		if err != nil {
			t.Fatalf("TxValues: %v", err)
		}
	}
	for k, vals := range got {
		if len(vals) != len(read) {
			t.Fatalf("TxValues (way %d) of %d names gave %d values", k, len(read), len(vals))
		}
		for i, n := range read {
			want, ok := seed[n]
			if (vals[i] != nil) != ok || !bytes.Equal(vals[i], []byte(want)) {
				t.Errorf("TxValues (way %d) %s = %q (nil %v), want %q (present %v)", k, n, vals[i], vals[i] == nil, want, ok)
			}
		}
	}
	for _, bad := range unreadableNames() {
		var vals [2][][]byte
		errP, errQ := run("TxValues with "+bad, func(tx store.Tx) error {
			v, err := store.TxValues(tx, []string{"keep", bad, "missing"})
			if _, hidden := tx.(perKey); hidden {
				vals[1] = v
			} else {
				vals[0] = v
			}
			return err
		})
		wantInvalidName(t, "TxValues", bad, errP)
		wantInvalidName(t, "TxValues (loop)", bad, errQ)
		for k := range vals {
			if len(vals[k]) != 1 || string(vals[k][0]) != "same" {
				t.Errorf("TxValues (way %d) refusing its second name gave %q, want the first value", k, vals[k])
			}
		}
	}

	// A bad name or value in the middle: the error of a loop of Set, and
	// nothing written.
	large := make([]byte, store.MaxValueLen+1)
	for _, bad := range append(InvalidNames(), "too-large") {
		v := []byte("x")
		if bad == "too-large" {
			v = large
		}
		errP, errQ := run("TxSetMany with "+bad, func(tx store.Tx) error {
			return store.TxSetMany(tx, []string{"new1", "over", bad, "new2"}, [][]byte{[]byte("1"), []byte("2"), v, []byte("3")})
		})
		if bad == "too-large" {
			if !errors.Is(errP, store.ErrLimit) || !errors.Is(errQ, store.ErrLimit) {
				t.Errorf("TxSetMany with a value over the limit = %v, %v; want ErrLimit", errP, errQ)
			}
		} else {
			wantInvalidName(t, "TxSetMany", bad, errP)
			wantInvalidName(t, "TxSetMany (loop)", bad, errQ)
		}
		var ke *store.KeyError
		if !errors.As(errP, &ke) || ke.Op != "set" || ke.Name != bad {
			t.Errorf("TxSetMany with %q: error %v is not a *store.KeyError for set naming it", bad, errP)
		}
		if after := Contents(t, p); !maps.Equal(after, before) {
			t.Fatalf("a TxSetMany refused for %q wrote %v", bad, after)
		}
	}
	same("after refused batches")

	// Unsorted, unchanged values, a replaced one, new text and binary
	// values.
	set := []string{"zeta", "keep", "over", "alpha", "bin", "empty", "new-empty"}
	vals := [][]byte{[]byte("z"), []byte("same"), []byte("new"), []byte("second"), {0xff, 0}, []byte(""), {}}
	if errP, _ := run("TxSetMany", func(tx store.Tx) error { return store.TxSetMany(tx, set, vals) }); errP != nil {
		t.Fatal(errP)
	}
	same("after TxSetMany")
	after := Contents(t, p)
	want := map[string]string{"keep": "same", "over": "new", "empty": "", "nul": "\x00", "zeta": "z", "alpha": "second", "bin": "\xff\x00", "new-empty": ""}
	for n, w := range want {
		if c, ok := after[n]; !ok || c.Value != w {
			t.Errorf("after TxSetMany, %s = %q (present %v), want %q", n, c.Value, ok, w)
		}
	}
	if after["keep"] != before["keep"] || after["empty"] != before["empty"] {
		t.Errorf("TxSetMany of unchanged values changed their entries: %+v, %+v; were %+v, %+v",
			after["keep"], after["empty"], before["keep"], before["empty"])
	}
	if o, b := after["over"], before["over"]; o.Description != "kept" || !o.Created.Equal(b.Created) || !o.Updated.After(b.Updated) {
		t.Errorf("TxSetMany replacing a value: entry %+v, was %+v; want its description and created time kept, a later updated time", o, b)
	}
	if a := after["alpha"]; !a.Created.Equal(a.Updated) || a.Description != "" {
		t.Errorf("TxSetMany of a new name: entry %+v, want created = updated, no description", a)
	}

	// New names only, after every name the store holds (as in an import
	// into a store of other names), unsorted, one given twice.
	set = []string{"~c", "~a", "~b", "~a"}
	vals = [][]byte{[]byte("c"), []byte("a1"), {0x80}, []byte("a2")}
	if errP, _ := run("TxSetMany of new names", func(tx store.Tx) error { return store.TxSetMany(tx, set, vals) }); errP != nil {
		t.Fatal(errP)
	}
	same("after TxSetMany of new names")
	for n, w := range map[string]string{"~a": "a2", "~b": "\x80", "~c": "c"} {
		wantValue(t, p, n, w)
	}
	if es, err := p.List(ctx); err != nil || len(es) != len(want)+3 {
		t.Errorf("after TxSetMany of new names, List = %q, %v; want %d names", names(es), err, len(want)+3)
	}

	// Values read back in the same Tx, and an empty call.
	errP, _ := run("TxSetMany then TxValues", func(tx store.Tx) error {
		if err := store.TxSetMany(tx, nil, nil); err != nil {
			return err
		}
		if err := store.TxSetMany(tx, []string{"b2", "a2"}, [][]byte{[]byte("b"), []byte("a")}); err != nil {
			return err
		}
		got, err := store.TxValues(tx, []string{"a2", "b2", "zeta"})
		if err != nil {
			return err
		}
		if s := string(bytes.Join(got, []byte(","))); s != "a,b,z" {
			return errors.New("values read back in the Tx: " + strings.ReplaceAll(s, "\x00", "\\0"))
		}
		return nil
	})
	if errP != nil {
		t.Fatal(errP)
	}
	same("after TxSetMany then TxValues")
}
