package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/hush-secrets/hush/store"
)

// testEach checks store.Each through q against List and GetMany, whose
// names are want and values wantVals: the same names in the same order
// with the same values, lent (the suite copies them), and fn's first
// error returned as it is, with fn not called again.
func testEach(t *testing.T, q store.Provider, want []string, wantVals [][]byte) {
	t.Helper()
	ctx := context.Background()
	var got []string
	var vals [][]byte
	err := store.Each(ctx, q, func(name, value []byte) error {
		got = append(got, string(name))
		vals = append(vals, bytes.Clone(value))
		return nil
	})
	if err != nil {
		t.Fatalf("Each: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Each names = %q, want List's %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("Each names = %q, want List's %q", got, want)
		}
		if !bytes.Equal(vals[i], wantVals[i]) {
			t.Errorf("Each value %d (%s) = %.40q, want GetMany's %.40q", i, want[i], vals[i], wantVals[i])
		}
	}
	if len(want) == 0 {
		return
	}
	stop := errors.New("stop")
	calls := 0
	err = store.Each(ctx, q, func(name, value []byte) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("Each with fn failing at once = %v after %d calls, want fn's error after 1", err, calls)
	}
}
