package scope_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

// allCounter is a memory store that counts its List and All calls.
type allCounter struct {
	*store.Memory
	lists, alls int
}

func (c *allCounter) List(ctx context.Context) ([]store.Entry, error) {
	c.lists++
	return c.Memory.List(ctx)
}

func (c *allCounter) All(ctx context.Context) ([]string, [][]byte, error) {
	c.alls++
	return c.Memory.All(ctx)
}

// A view's All is one All of the store underneath, whatever the
// composition, showing what the view's List shows: its own names, under
// the caller's names, with their values.
func TestViewAllOneRead(t *testing.T) {
	c := &allCounter{Memory: store.NewMemory()}
	for _, k := range []string{"__hush_a_k", "__hush_a_j", "k", "__hush_b_k", "__hush_a___hush_x_y", "__hush_ab_k"} {
		set(t, c, k, "value of "+k)
	}
	v := scope.User(mustScoped(t, scope.ReadOnly(c), "a"))
	names, vals, err := store.All(ctx, v)
	if err != nil || !slices.Equal(names, []string{"j", "k"}) || len(vals) != 2 ||
		string(vals[0]) != "value of __hush_a_j" || string(vals[1]) != "value of __hush_a_k" {
		t.Fatalf("All = %q, %q, %v", names, vals, err)
	}
	if c.alls != 1 || c.lists != 0 {
		t.Fatalf("the store underneath got %d All and %d List calls, want 1 and 0", c.alls, c.lists)
	}
	if got := list(t, v); !slices.Equal(got, names) {
		t.Fatalf("List = %q, All = %q", got, names)
	}
	names, _, err = store.All(ctx, scope.User(c))
	if err != nil || !slices.Equal(names, []string{"k"}) {
		t.Fatalf("All of the user view = %q, %v; want [k]", names, err)
	}
}

// A view's All fails as its List and GetMany fail, with the caller's
// names in the errors.
func TestViewAllErrors(t *testing.T) {
	m := store.NewMemory()
	set(t, m, "__hush_a_j", "j")
	set(t, m, "__hush_a_k", "k")
	boom := errors.New("boom")
	failList := storetest.Wrap(m, func(op, name string) error {
		if op == "list" {
			return boom
		}
		return nil
	})
	names, vals, err := store.All(ctx, mustScoped(t, failList, "a"))
	if !errors.Is(err, boom) || names != nil || vals != nil {
		t.Fatalf("All with List failing = %q, %q, %v; want List's error", names, vals, err)
	}
	// An entry gone between the listing and the read: the not-found
	// error names the caller's name, as GetMany's does.
	failGet := storetest.Wrap(m, func(op, name string) error {
		if op == "get" && name == "__hush_a_k" {
			return &store.KeyError{Op: "get", Name: name, Err: store.ErrNotFound}
		}
		return nil
	})
	v := mustScoped(t, failGet, "a")
	names, vals, err = store.All(ctx, v)
	wantKeyError(t, err, "get", "k", store.ErrNotFound)
	noPrefix(t, err, "a")
	if names != nil || vals != nil {
		t.Fatalf("All with a Get failing gave %q, %q", names, vals)
	}
	_, want := store.GetMany(ctx, v, []string{"j", "k"})
	if err.Error() != want.Error() {
		t.Fatalf("All's error %q, GetMany's %q", err, want)
	}
}
