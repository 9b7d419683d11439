package scope_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

var errInjected = errors.New("injected failure")

// failOps are the calls of a store, and of the Tx of its Update, that
// failingStore fails; "" fails none, leaving the store's own errors
// (not found, refusals).
var failOps = []string{"", "get", "set", "delete", "list", "deletemany", "cleanup", "update",
	"tx.get", "tx.lookup", "tx.set", "tx.describe", "tx.delete", "tx.list"}

// failingStore returns a memory store holding keys (and a neighbour no
// view shows), on which every call named fail fails the way the
// Provider contract says a failure looks: a *store.KeyError naming the
// key the call got, or, for a call without a key, an error naming none.
// kind says what the store offers besides the Provider methods: "batches"
// (Update, DeleteMany, Cleanup), "bulk" (DeleteMany, Cleanup) or "plain"
// (nothing).
func failingStore(t *testing.T, keys []string, fail, kind string) store.Provider {
	t.Helper()
	m := store.NewMemory()
	for _, k := range append([]string{"__hush_c_x"}, keys...) {
		set(t, m, k, "v")
	}
	hook := func(op, name string) error {
		if op != fail {
			return nil
		}
		switch op {
		case "list", "cleanup", "update", "tx.list":
			return fmt.Errorf("backend: %w", errInjected)
		case "deletemany":
			name, _, _ = strings.Cut(name, ",")
		}
		return &store.KeyError{Op: strings.TrimPrefix(op, "tx."), Name: name, Err: errInjected}
	}
	switch kind {
	case "batches":
		return storetest.Wrap(m, hook)
	case "bulk":
		return storetest.Wrap(struct{ store.Provider }{m}, hook)
	}
	return struct{ store.Provider }{storetest.Wrap(m, hook)}
}

// composition is a view built over a store in an order a program may
// use, and the stored keys of the caller's names "k" and "j" in it.
type composition struct {
	build func(t *testing.T, p store.Provider) store.Provider
	keys  []string
}

var (
	bare   = []string{"k", "j"}
	inA    = []string{"__hush_a_k", "__hush_a_j"}
	inBInA = []string{"__hush_a___hush_b_k", "__hush_a___hush_b_j"}
)

// A layer is one view constructor; chain applies layers innermost first,
// so chain(scopedA, user) is User(Scoped(p, "a")).
type layer func(t *testing.T, p store.Provider) store.Provider

func chain(layers ...layer) func(t *testing.T, p store.Provider) store.Provider {
	return func(t *testing.T, p store.Provider) store.Provider {
		for _, l := range layers {
			p = l(t, p)
		}
		return p
	}
}

var (
	scopedA  layer = func(t *testing.T, p store.Provider) store.Provider { return mustScoped(t, p, "a") }
	scopedB  layer = func(t *testing.T, p store.Provider) store.Provider { return mustScoped(t, p, "b") }
	user     layer = func(t *testing.T, p store.Provider) store.Provider { return scope.User(p) }
	readOnly layer = func(t *testing.T, p store.Provider) store.Provider { return scope.ReadOnly(p) }
)

var compositions = map[string]composition{
	"Scoped":                 {chain(scopedA), inA},
	"User":                   {chain(user), bare},
	"ReadOnly":               {chain(readOnly), bare},
	"Scoped(Scoped)":         {chain(scopedA, scopedB), inBInA},
	"User(Scoped)":           {chain(scopedA, user), inA},
	"Scoped(User)":           {chain(user, scopedA), inA},
	"ReadOnly(Scoped)":       {chain(scopedA, readOnly), inA},
	"Scoped(ReadOnly)":       {chain(readOnly, scopedA), inA},
	"ReadOnly(User(Scoped))": {chain(scopedA, user, readOnly), inA},
	// "k" is in the scope, "j" only under its bare name.
	"Scoped.WithFallback": {func(t *testing.T, p store.Provider) store.Provider {
		notDone := func(context.Context) (bool, error) { return false, nil }
		return mustScoped(t, p, "a").WithFallback(func(string) bool { return true }, notDone)
	}, []string{"__hush_a_k", "j"}},
}

// viewOps are every operation a caller can make on a view, with the
// names "k" and "j" only.
var viewOps = map[string]func(p store.Provider) error{
	"Get":        func(p store.Provider) error { _, err := p.Get(ctx, "k"); return err },
	"GetMissing": func(p store.Provider) error { _, err := p.Get(ctx, "j-missing"); return err },
	"Set":        func(p store.Provider) error { return p.Set(ctx, "k", []byte("w")) },
	"Delete":     func(p store.Provider) error { return p.Delete(ctx, "k") },
	"List":       func(p store.Provider) error { _, err := p.List(ctx); return err },
	"GetMany":    func(p store.Provider) error { _, err := store.GetMany(ctx, p, []string{"k", "j"}); return err },
	"GetManyMissing": func(p store.Provider) error {
		_, err := store.GetMany(ctx, p, []string{"k", "j-missing"})
		return err
	},
	"DeleteMany": func(p store.Provider) error { return store.DeleteMany(ctx, p, []string{"k", "j"}) },
	"Cleanup":    func(p store.Provider) error { return store.Cleanup(ctx, p) },
	"tx.Get":     inTx(func(tx store.Tx) error { _, err := tx.Get("k"); return err }),
	"tx.Lookup":  inTx(func(tx store.Tx) error { _, err := tx.Lookup("k"); return err }),
	"tx.Set":     inTx(func(tx store.Tx) error { return tx.Set("k", []byte("w")) }),
	"tx.Describe": inTx(func(tx store.Tx) error {
		return tx.SetDescription("k", "d")
	}),
	"tx.Delete": inTx(func(tx store.Tx) error { return tx.Delete("k") }),
	"tx.List":   inTx(func(tx store.Tx) error { _, err := tx.List(); return err }),
}

func inTx(fn func(store.Tx) error) func(p store.Provider) error {
	return func(p store.Provider) error { return store.Update(ctx, p, fn) }
}

// storedKey matches a key of the reserved namespace: __hush_ and a scope.
var storedKey = regexp.MustCompile(`__hush_[a-z0-9]`)

// TestErrorsShowNoStoredKey runs every operation of every composition
// against stores that fail each of their calls in turn, and checks that
// no error shows a reserved stored key (the caller used only the names
// "k" and "j"; User's refusal may still name the prefix as a rule), that every *store.KeyError names one of the
// caller's names, and that the injected failure is still found with
// errors.Is.
func TestErrorsShowNoStoredKey(t *testing.T) {
	for cname, c := range compositions {
		t.Run(cname, func(t *testing.T) {
			injected := 0
			for _, kind := range []string{"batches", "bulk", "plain"} {
				for _, fail := range failOps {
					for oname, op := range viewOps {
						err := op(c.build(t, failingStore(t, c.keys, fail, kind)))
						if err == nil {
							continue
						}
						where := fmt.Sprintf("%s over a %s store failing %q: %s", oname, kind, fail, err)
						if storedKey.MatchString(err.Error()) {
							t.Errorf("%s: shows a stored key", where)
						}
						var ke *store.KeyError
						if errors.As(err, &ke) && !slices.Contains([]string{"k", "j", "j-missing"}, ke.Name) {
							t.Errorf("%s: KeyError names %q", where, ke.Name)
						}
						if errors.Is(err, errInjected) {
							injected++
						}
					}
				}
			}
			if injected == 0 && cname != "Scoped(User)" {
				t.Fatal("no injected failure reached the caller: the test checks nothing")
			}
		})
	}
}
