package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

// calls records the calls a storetest.Wrap passes on, as "op name", and
// fails the ones listed in fail.
type calls struct {
	mu   sync.Mutex
	log  []string
	fail map[string]error
}

func (c *calls) hook(op, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	call := strings.TrimSpace(op + " " + name)
	c.log = append(c.log, call)
	return c.fail[call]
}

func (c *calls) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.log
	c.log = nil
	return l
}

// fallbackFixture returns a memory store holding a, b and c, and three
// recorded providers over it: one with DeleteMany and Cleanup methods
// (storetest.Wrap always has them), one with only Update, and one with
// only the Provider methods.
func fallbackFixture(t *testing.T) (m *store.Memory, c *calls, method, batch, plain store.Provider) {
	t.Helper()
	ctx := context.Background()
	m = store.NewMemory()
	for _, n := range []string{"a", "b", "c"} {
		if err := m.Set(ctx, n, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	c = &calls{fail: map[string]error{}}
	w := storetest.Wrap(m, c.hook)
	batch = struct {
		store.Provider
		store.Updater
	}{w, w.(store.Updater)}
	return m, c, w, batch, struct{ store.Provider }{w}
}

func listed(t *testing.T, p store.Provider) []string {
	t.Helper()
	es, err := p.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

func wantCalls(t *testing.T, c *calls, want ...string) {
	t.Helper()
	if got := c.take(); !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
}

// TestDeleteManyWays: the method when there is one, else one Update, else
// one Delete per name; absent names are ignored every way.
func TestDeleteManyWays(t *testing.T) {
	ctx := context.Background()
	names := []string{"a", "absent", "c"}

	m, c, method, _, _ := fallbackFixture(t)
	w := m.Writes()
	if err := store.DeleteMany(ctx, method, names); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, c, "deletemany a,absent,c")
	if got := listed(t, m); !slices.Equal(got, []string{"b"}) || m.Writes()-w != 1 {
		t.Fatalf("after DeleteMany: %v, %d writes", got, m.Writes()-w)
	}

	m, c, _, batch, _ := fallbackFixture(t)
	w = m.Writes()
	if err := store.DeleteMany(ctx, batch, names); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, c, "update", "tx.delete a", "tx.delete absent", "tx.delete c")
	if got := listed(t, m); !slices.Equal(got, []string{"b"}) || m.Writes()-w != 1 {
		t.Fatalf("after DeleteMany in a batch: %v, %d writes", got, m.Writes()-w)
	}

	m, c, _, _, plain := fallbackFixture(t)
	if err := store.DeleteMany(ctx, plain, names); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, c, "delete a", "delete absent", "delete c")
	if got := listed(t, m); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("after DeleteMany one by one: %v", got)
	}

	// Nothing to delete: no call, no write.
	for _, p := range []store.Provider{batch, plain} {
		w = m.Writes()
		if err := store.DeleteMany(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
		wantCalls(t, c)
		if m.Writes() != w {
			t.Fatal("DeleteMany(nil) wrote")
		}
	}
}

// TestDeleteManyFailure: in a batch a failure deletes nothing; one by one
// it stops at the failure, leaving the earlier names deleted (the
// documented lack of atomicity). Either way the error is p's, unchanged.
func TestDeleteManyFailure(t *testing.T) {
	ctx := context.Background()
	boom := &store.KeyError{Op: "delete", Name: "b", Err: errors.New("boom")}

	m, c, _, batch, _ := fallbackFixture(t)
	c.fail["tx.delete b"] = boom
	if err := store.DeleteMany(ctx, batch, []string{"a", "b", "c"}); err != boom {
		t.Fatalf("DeleteMany in a batch = %v, want the provider's error", err)
	}
	if got := listed(t, m); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("a failed batch deleted something: %v", got)
	}

	m, c, _, _, plain := fallbackFixture(t)
	c.fail["delete b"] = boom
	if err := store.DeleteMany(ctx, plain, []string{"a", "b", "c"}); err != boom {
		t.Fatalf("DeleteMany one by one = %v, want the provider's error", err)
	}
	wantCalls(t, c, "delete a", "delete b")
	if got := listed(t, m); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("after a failed DeleteMany one by one: %v, want [b c]", got)
	}
}

// TestCleanupWays: the method when there is one, else list and delete in
// one Update, else List and then DeleteMany (the method if p has it, one
// Delete per entry if not).
func TestCleanupWays(t *testing.T) {
	ctx := context.Background()

	m, c, method, _, _ := fallbackFixture(t)
	if err := store.Cleanup(ctx, method); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, c, "cleanup")
	if got := listed(t, m); len(got) != 0 {
		t.Fatalf("after Cleanup: %v", got)
	}

	m, c, _, batch, _ := fallbackFixture(t)
	w := m.Writes()
	if err := store.Cleanup(ctx, batch); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, c, "update", "tx.list", "tx.delete a", "tx.delete b", "tx.delete c")
	if got := listed(t, m); len(got) != 0 || m.Writes()-w != 1 {
		t.Fatalf("after Cleanup in a batch: %v, %d writes", got, m.Writes()-w)
	}
	w = m.Writes()
	if err := store.Cleanup(ctx, batch); err != nil || m.Writes() != w {
		t.Fatalf("Cleanup of an empty store in a batch: %v, %d writes", err, m.Writes()-w)
	}

	m, c, _, _, plain := fallbackFixture(t)
	if err := store.Cleanup(ctx, plain); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, c, "list", "delete a", "delete b", "delete c")
	if got := listed(t, m); len(got) != 0 {
		t.Fatalf("after Cleanup one by one: %v", got)
	}

	m, c, method, _, _ = fallbackFixture(t)
	many := struct{ store.DeleteManyProvider }{method.(store.DeleteManyProvider)}
	if err := store.Cleanup(ctx, many); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, c, "list", "deletemany a,b,c")
	if got := listed(t, m); len(got) != 0 {
		t.Fatalf("after Cleanup by DeleteMany: %v", got)
	}

	// A failed listing deletes nothing and its error is returned as is.
	m, c, _, _, plain = fallbackFixture(t)
	boom := errors.New("boom")
	c.fail["list"] = boom
	if err := store.Cleanup(ctx, plain); err != boom {
		t.Fatalf("Cleanup = %v, want the List error", err)
	}
	wantCalls(t, c, "list")
	if got := listed(t, m); len(got) != 3 {
		t.Fatalf("a failed Cleanup deleted: %v", got)
	}
}
