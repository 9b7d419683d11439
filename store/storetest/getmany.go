package storetest

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/store"
)

// testGetMany checks store.GetMany through q, which is p or p with its
// optional methods hidden, over a store holding Values() (written first
// through p when set is true): the values in the order of the names,
// and the errors and values before them of a loop of Get calls.
func testGetMany(t *testing.T, p, q store.Provider, set bool) {
	t.Helper()
	ctx := context.Background()
	if set {
		for name, v := range Values() {
			if err := p.Set(ctx, name, v); err != nil {
				t.Fatalf("Set(%s): %v", name, err)
			}
		}
	}
	want := Values()
	ns := append(slices.Sorted(maps.Keys(want)), "nul", "empty", "nul")
	got, err := store.GetMany(ctx, q, ns)
	if err != nil {
		t.Fatalf("GetMany(%q): %v", ns, err)
	}
	if len(got) != len(ns) {
		t.Fatalf("GetMany of %d names gave %d values", len(ns), len(got))
	}
	for i, n := range ns {
		if !bytes.Equal(got[i], want[n]) {
			t.Errorf("GetMany value %d (%s) = %.40q, want %.40q", i, n, got[i], want[n])
		}
	}
	if got, err := store.GetMany(ctx, q, nil); err != nil || len(got) != 0 {
		t.Errorf("GetMany(nil) = %d values, %v; want none and no error", len(got), err)
	}
	got, err = store.GetMany(ctx, q, []string{"nul", "crlf", "missing", "empty"})
	wantNotFound(t, "GetMany", "missing", err)
	if len(got) != 2 || !bytes.Equal(got[0], want["nul"]) || !bytes.Equal(got[1], want["crlf"]) {
		t.Errorf("GetMany failing at its third name gave %q, want the first two values", got)
	}
	for _, n := range unreadableNames() {
		got, err := store.GetMany(ctx, q, []string{"unicode", n, "missing"})
		wantInvalidName(t, "GetMany", n, err)
		var ke *store.KeyError
		if !errors.As(err, &ke) || ke.Name != n || ke.Op != "get" {
			t.Errorf("GetMany(%q) error %v is not a *store.KeyError for get naming it", n, err)
		}
		if len(got) != 1 || !bytes.Equal(got[0], want["unicode"]) {
			t.Errorf("GetMany refusing its second name gave %q, want the first value", got)
		}
	}
}
