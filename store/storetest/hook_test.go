package storetest_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

// log is a Hook that records calls and fails those in fail.
type log struct {
	mu    sync.Mutex
	calls []string
	fail  map[string]error
}

func (l *log) hook(op, name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := op + " " + name
	l.calls = append(l.calls, c)
	return l.fail[c]
}

// TestWrapConforms: a wrapped store that lets every call through is still a
// conforming Provider, with and without Updater.
func TestWrapConforms(t *testing.T) {
	storetest.TestProvider(t, func(t *testing.T) store.Provider {
		return storetest.Wrap(store.NewMemory(), nil)
	})
	storetest.TestProvider(t, func(t *testing.T) store.Provider {
		return storetest.Wrap(struct{ store.Provider }{store.NewMemory()}, nil)
	})
}

// TestWrapHook: every call reaches the hook, under its op name, before the
// store; a failing hook's error is returned as is and the store is not
// called; Updater is kept iff the inner provider has it; the value hook
// rewrites Set and tx.Set.
func TestWrapHook(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	boom := errors.New("boom")
	l := &log{fail: map[string]error{"set x": boom, "tx.delete a": boom}}
	p := storetest.WrapValues(m, l.hook, func(name string, v []byte) []byte {
		return append(slices.Clone(v), '!')
	})
	u, ok := p.(store.Updater)
	if !ok {
		t.Fatal("Wrap of an Updater is not an Updater")
	}
	if _, ok := storetest.Wrap(struct{ store.Provider }{m}, l.hook).(store.Updater); ok {
		t.Fatal("Wrap of a plain Provider is an Updater")
	}

	if err := p.Set(ctx, "x", []byte("1")); err != boom {
		t.Fatalf("failed Set = %v, want the hook's error unchanged", err)
	}
	if m.Writes() != 0 {
		t.Fatal("a failed call reached the store")
	}
	if err := p.Set(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	err := u.Update(ctx, func(tx store.Tx) error {
		if err := tx.Set("b", []byte("2")); err != nil {
			return err
		}
		if _, err := tx.Get("b"); err != nil {
			return err
		}
		if _, err := tx.Lookup("b"); err != nil {
			return err
		}
		if err := tx.SetDescription("b", "d"); err != nil {
			return err
		}
		if _, err := tx.List(); err != nil {
			return err
		}
		return tx.Delete("a")
	})
	if err != boom {
		t.Fatalf("Update = %v, want the hook's error", err)
	}
	if err := store.DeleteMany(ctx, p, []string{"a", "c"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Set(ctx, "c", []byte("3")); err != nil {
		t.Fatal(err)
	}
	if err := u.Update(ctx, func(tx store.Tx) error { return tx.Set("d", []byte("4")) }); err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"c", "3!"}, {"d", "4!"}} {
		if v, err := p.Get(ctx, kv[0]); err != nil || string(v) != kv[1] {
			t.Errorf("Get(%s) = %q, %v; want %q", kv[0], v, err, kv[1])
		}
	}
	if _, err := p.List(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Delete(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := store.Cleanup(ctx, p); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"set x", "set a",
		"update ", "tx.set b", "tx.get b", "tx.lookup b", "tx.describe b", "tx.list ", "tx.delete a",
		"deletemany a,c", "set c", "update ", "tx.set d",
		"get c", "get d", "list ", "delete c", "cleanup ",
	}
	if !slices.Equal(l.calls, want) {
		t.Errorf("calls\n%q\nwant\n%q", l.calls, want)
	}
}
