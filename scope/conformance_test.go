package scope_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

// Neighbours are keys of other namespaces placed in the store under a view
// before the conformance suite runs. They share names with the keys the
// suite uses, and must come out of every subtest untouched: this turns
// the suite's Cleanup, DeleteMany and List checks into isolation checks.
var (
	// Around a user view: only reserved keys.
	userNeighbours = []string{"__hush_a_k", "__hush_a_a", "__hush_b_missing", "__hush_", "__hush_x"}
	// Around scope "a": bare keys, other scopes, look-alikes.
	scopeNeighbours = []string{"k", "a", "missing", "keep", "__hush_b_k", "__hush_ab_k", "__hush_a_",
		"__hush_b___hush_a_k", "x__hush_a_k", "__hush_a"}
)

// withNeighbours writes keys into p and registers a check that they
// survive the test unchanged.
func withNeighbours(t *testing.T, p store.Provider, keys []string) {
	t.Helper()
	err := store.Update(ctx, p, func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.Set(k, []byte("neighbour-"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, k := range keys {
			v, err := p.Get(ctx, k)
			if err != nil || !bytes.Equal(v, []byte("neighbour-"+k)) {
				t.Errorf("neighbour %s = %q, %v after the test", k, v, err)
			}
		}
	})
}

// withoutBatches hides the Update of a view over a store without batches:
// that Update applies changes one by one (see View.Update), so the
// suite's atomicity check does not apply to it. The view's own DeleteMany
// and Cleanup stay visible to the suite.
type withoutBatches struct{ *scope.View }

// Update shadows the view's Update, so withoutBatches is no store.Updater.
func (withoutBatches) Update() {}

func doneAlready(context.Context) (bool, error) { return true, nil }

func TestConformance(t *testing.T) {
	cases := map[string]func(t *testing.T) store.Provider{
		"User(file)": func(t *testing.T) store.Provider {
			f := newFile(t)
			withNeighbours(t, f, userNeighbours)
			return scope.User(f)
		},
		"User(memory)": func(t *testing.T) store.Provider {
			m := store.NewMemory()
			withNeighbours(t, m, userNeighbours)
			return scope.User(m)
		},
		"Scoped(file,a)": func(t *testing.T) store.Provider {
			f := newFile(t)
			withNeighbours(t, f, scopeNeighbours)
			return mustScoped(t, f, "a")
		},
		"Scoped(memory,a)": func(t *testing.T) store.Provider {
			m := store.NewMemory()
			withNeighbours(t, m, scopeNeighbours)
			return mustScoped(t, m, "a")
		},
		// The compositions below run over memory stores, which share the
		// file store's semantics, to keep the suite fast; the file store
		// is covered by the cases above and by the isolation property.
		"Scoped(memory,a).WithFallback": func(t *testing.T) store.Provider {
			// A fallback whose migration is done behaves as no fallback,
			// even with bare keys of the same names present.
			m := store.NewMemory()
			withNeighbours(t, m, scopeNeighbours)
			return mustScoped(t, m, "a").WithFallback(func(string) bool { return true }, doneAlready)
		},
		// Over stores without the optional methods (plain: no Update,
		// DeleteMany or Cleanup; batch: Update only), the views' bulk
		// operations take the fallbacks of store.DeleteMany and
		// store.Cleanup underneath.
		"User(plain memory)": func(t *testing.T) store.Provider {
			m := store.NewMemory()
			withNeighbours(t, m, userNeighbours)
			return withoutBatches{scope.User(struct{ store.Provider }{m})}
		},
		"Scoped(plain memory,a)": func(t *testing.T) store.Provider {
			m := store.NewMemory()
			withNeighbours(t, m, scopeNeighbours)
			return withoutBatches{mustScoped(t, struct{ store.Provider }{m}, "a")}
		},
		"Scoped(batch memory,a)": func(t *testing.T) store.Provider {
			m := store.NewMemory()
			withNeighbours(t, m, scopeNeighbours)
			return mustScoped(t, struct {
				store.Provider
				store.Updater
			}{m, m}, "a")
		},
		"User(Scoped(plain memory,a))": func(t *testing.T) store.Provider {
			m := store.NewMemory()
			withNeighbours(t, m, scopeNeighbours)
			withNeighbours(t, mustScoped(t, m, "a"), userNeighbours)
			return withoutBatches{scope.User(mustScoped(t, struct{ store.Provider }{m}, "a"))}
		},
		"User(Scoped(file,a))": func(t *testing.T) store.Provider {
			f := newFile(t)
			withNeighbours(t, f, scopeNeighbours)
			withNeighbours(t, mustScoped(t, f, "a"), userNeighbours)
			return scope.User(mustScoped(t, f, "a"))
		},
		"Scoped(Scoped(memory,a),b)": func(t *testing.T) store.Provider {
			m := store.NewMemory()
			withNeighbours(t, m, scopeNeighbours)
			withNeighbours(t, mustScoped(t, m, "a"), []string{"k", "__hush_c_k", "__hush_b_"})
			return mustScoped(t, mustScoped(t, m, "a"), "b")
		},
	}
	for name, newProvider := range cases {
		t.Run(name, func(t *testing.T) { storetest.TestProvider(t, newProvider) })
	}
}

// TestConformanceReadOnly runs the read-only suite over read-only wrappers
// of the views. Seed writes through the wrapped view and adds neighbours,
// so the suite's List count also checks that they stay hidden.
func TestConformanceReadOnly(t *testing.T) {
	type under struct {
		view       func(t *testing.T, f *store.File) store.Provider
		neighbours []string
	}
	cases := map[string]under{
		"ReadOnly(file)": {func(t *testing.T, f *store.File) store.Provider { return f }, nil},
		"ReadOnly(User(file))": {func(t *testing.T, f *store.File) store.Provider { return scope.User(f) },
			userNeighbours},
		"ReadOnly(Scoped(file,a))": {func(t *testing.T, f *store.File) store.Provider { return mustScoped(t, f, "a") },
			scopeNeighbours},
		"ReadOnly(User(Scoped(file,a)))": {func(t *testing.T, f *store.File) store.Provider {
			return scope.User(mustScoped(t, f, "a"))
		}, scopeNeighbours},
		"ReadOnly(Scoped(plain file,a))": {func(t *testing.T, f *store.File) store.Provider {
			return mustScoped(t, struct{ store.Provider }{f}, "a")
		}, scopeNeighbours},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			views := map[*testing.T]store.Provider{} // the writable view under each subtest's wrapper
			newProvider := func(t *testing.T) store.Provider {
				f := newFile(t)
				if c.neighbours != nil {
					withNeighbours(t, f, c.neighbours)
				}
				views[t] = c.view(t, f)
				return scope.ReadOnly(views[t])
			}
			seed := func(t *testing.T, values map[string][]byte) {
				err := store.Update(ctx, views[t], func(tx store.Tx) error {
					for n, v := range values {
						if err := tx.Set(n, v); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			storetest.TestProvider(t, newProvider, storetest.Options{ReadOnly: true, Seed: seed})
		})
	}
}
