package store

import (
	"context"
	"errors"
	"testing"
)

// loadCounter is a docStore that counts its loads.
type loadCounter struct {
	*memStore
	loads int
}

func (c *loadCounter) load(ctx context.Context) (*document, error) {
	c.loads++
	return c.memStore.load(ctx)
}

// GetMany reads the store once for any number of names, and not at all
// when a name is refused before any valid one or there are none: every
// value comes from one version of the store.
func TestGetManyLoadsOnce(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	for _, n := range []string{"a", "b", "c"} {
		if err := m.Set(ctx, n, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	c := &loadCounter{memStore: m.m}
	o := ops{s: c}
	vals, err := o.GetMany(ctx, []string{"c", "a", "b", "a"})
	if err != nil || len(vals) != 4 || string(vals[0]) != "c" || string(vals[3]) != "a" {
		t.Fatalf("GetMany = %q, %v", vals, err)
	}
	if c.loads != 1 {
		t.Fatalf("GetMany of 4 names loaded the store %d times, want 1", c.loads)
	}
	c.loads = 0
	if _, err := o.GetMany(ctx, []string{"bad name", "a"}); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("GetMany of an invalid name first = %v", err)
	}
	if _, err := o.GetMany(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if c.loads != 0 {
		t.Fatalf("GetMany with no valid name to read loaded the store %d times, want 0", c.loads)
	}
}
