package scope_test

import (
	"context"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// manyCounter is a memory store that counts its Get and GetMany calls.
type manyCounter struct {
	*store.Memory
	gets, getManys int
}

func (c *manyCounter) Get(ctx context.Context, name string) ([]byte, error) {
	c.gets++
	return c.Memory.Get(ctx, name)
}

func (c *manyCounter) GetMany(ctx context.Context, names []string) ([][]byte, error) {
	c.getManys++
	return c.Memory.GetMany(ctx, names)
}

// A view's GetMany is one GetMany of the store underneath, under the
// stored keys, whatever the composition; its errors name the caller's
// names, and a refused name stops it before the store is read for it.
func TestViewGetManyOneRead(t *testing.T) {
	c := &manyCounter{Memory: store.NewMemory()}
	set(t, c, "__hush_a_k", "scoped k")
	set(t, c, "__hush_a_j", "scoped j")
	set(t, c, "k", "bare k")
	v := scope.User(mustScoped(t, scope.ReadOnly(c), "a"))
	vals, err := store.GetMany(ctx, v, []string{"j", "k", "j"})
	got := []string{}
	for _, b := range vals {
		got = append(got, string(b))
	}
	if err != nil || !slices.Equal(got, []string{"scoped j", "scoped k", "scoped j"}) {
		t.Fatalf("GetMany = %q, %v", got, err)
	}
	if c.getManys != 1 || c.gets != 0 {
		t.Fatalf("the store underneath got %d GetMany and %d Get calls, want 1 and 0", c.getManys, c.gets)
	}

	vals, err = store.GetMany(ctx, v, []string{"k", "missing", "j"})
	wantKeyError(t, err, "get", "missing", store.ErrNotFound)
	noPrefix(t, err, "a")
	if len(vals) != 1 || string(vals[0]) != "scoped k" {
		t.Fatalf("GetMany failing at its second name gave %q, want the first value", vals)
	}

	c.getManys = 0
	vals, err = store.GetMany(ctx, v, []string{"k", "__hush_b_x", "j"})
	wantKeyError(t, err, "get", "__hush_b_x", scope.ErrReserved)
	if len(vals) != 1 || c.getManys != 1 {
		t.Fatalf("GetMany refusing its second name gave %d values after %d reads, want 1 and 1", len(vals), c.getManys)
	}

	// With a migration fallback, a missing scoped key is read bare.
	notDone := func(context.Context) (bool, error) { return false, nil }
	fb := mustScoped(t, c, "b").WithFallback(func(string) bool { return true }, notDone)
	vals, err = store.GetMany(ctx, fb, []string{"k"})
	if err != nil || len(vals) != 1 || string(vals[0]) != "bare k" {
		t.Fatalf("GetMany with a fallback = %q, %v; want the bare value", vals, err)
	}
}
