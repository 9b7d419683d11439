package storetest

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/store"
)

// testAll checks store.All, and store.Each (testEach), through q, which is p or p with its optional
// methods hidden: empty at first, then over Values() and a few changes
// (written through p when set is true), against List and GetMany through
// q: the same names in the same order, the same values, and values the
// caller can clear without changing the others or the store.
func testAll(t *testing.T, p, q store.Provider, set bool) {
	t.Helper()
	ctx := context.Background()
	if set {
		got, vals, err := store.All(ctx, q)
		if err != nil || len(got) != 0 || len(vals) != 0 {
			t.Fatalf("All on an empty view = %q, %d values, %v; want none and no error", got, len(vals), err)
		}
		testEach(t, q, nil, nil)
		for name, v := range Values() {
			mustSet(t, p, name, string(v))
		}
		mustSet(t, p, "replaced", "old")
		mustSet(t, p, "replaced", "new")
		mustSet(t, p, "gone", "x")
		if err := p.Delete(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
	}
	es, err := q.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := names(es)
	wantVals, err := store.GetMany(ctx, q, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < len(Values()) {
		t.Fatalf("List shows %d names, want at least the %d of Values", len(want), len(Values()))
	}
	check := func() [][]byte {
		t.Helper()
		got, vals, err := store.All(ctx, q)
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("All names = %q, want List's %q", got, want)
		}
		if len(vals) != len(want) {
			t.Fatalf("All gave %d values for %d names", len(vals), len(want))
		}
		for i, v := range vals {
			if !bytes.Equal(v, wantVals[i]) {
				t.Errorf("All value %d (%s) = %.40q, want GetMany's %.40q", i, want[i], v, wantVals[i])
			}
		}
		return vals
	}
	testEach(t, q, want, wantVals)
	vals := check()
	// The values are the caller's: appending to some or clearing them
	// changes neither the others nor the store.
	for i := 0; i < len(vals); i += 2 {
		_ = append(vals[i], "appended"...)
		clear(vals[i])
	}
	for i := 1; i < len(vals); i += 2 {
		if !bytes.Equal(vals[i], wantVals[i]) {
			t.Errorf("All value %d (%s) changed when the values around it were cleared", i, want[i])
		}
	}
	check()
}
