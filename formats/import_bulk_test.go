package formats

import (
	"context"
	"fmt"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// bulkOnly is a store whose Tx reads and writes only in bulk: a Get or a
// Set of one name fails the test. It holds what it was given.
type bulkOnly struct {
	store.Provider // nil: any call of the Provider's own fails
	t              *testing.T
	m              map[string]string
	calls          int // of Values and SetMany
}

func (b *bulkOnly) Update(_ context.Context, fn func(store.Tx) error) error {
	return fn(&bulkOnlyTx{b})
}

type bulkOnlyTx struct{ b *bulkOnly }

func (t *bulkOnlyTx) fail(op string) error {
	t.b.t.Errorf("the import called Tx.%s for one name: the bulk path fell back to a loop", op)
	return fmt.Errorf("per-key %s", op)
}

func (t *bulkOnlyTx) Get(string) ([]byte, error)          { return nil, t.fail("Get") }
func (t *bulkOnlyTx) Lookup(string) (store.Entry, error)  { return store.Entry{}, t.fail("Lookup") }
func (t *bulkOnlyTx) Set(string, []byte) error            { return t.fail("Set") }
func (t *bulkOnlyTx) SetDescription(string, string) error { return t.fail("SetDescription") }
func (t *bulkOnlyTx) Delete(string) error                 { return t.fail("Delete") }
func (t *bulkOnlyTx) List() ([]store.Entry, error)        { return nil, t.fail("List") }

func (t *bulkOnlyTx) Values(names []string) ([][]byte, error) {
	t.b.calls++
	vals := make([][]byte, len(names))
	for i, n := range names {
		if v, ok := t.b.m[n]; ok {
			vals[i] = []byte(v)
		}
	}
	return vals, nil
}

func (t *bulkOnlyTx) SetMany(names []string, values [][]byte) error {
	t.b.calls++
	for i, n := range names {
		t.b.m[n] = string(values[i])
	}
	return nil
}

// Import reads and writes in one call each, through every view, when the
// store's Tx offers it: never a Get or a Set a name.
func TestImportIsBulk(t *testing.T) {
	in := sec("B", "2", "A", "1", "SAME", "same", "DIFF", "new")
	for _, tc := range []struct {
		name string
		view func(p store.Provider) store.Provider
		key  func(name string) string
	}{
		{"store", func(p store.Provider) store.Provider { return p }, func(n string) string { return n }},
		{"User", func(p store.Provider) store.Provider { return scope.User(p) }, func(n string) string { return n }},
		{"Scoped", func(p store.Provider) store.Provider {
			v, err := scope.Scoped(p, "s")
			if err != nil {
				t.Fatal(err)
			}
			return v
		}, func(n string) string { return scope.Key("s", n) }},
		{"User(Scoped)", func(p store.Provider) store.Provider {
			v, _ := scope.Scoped(p, "s")
			return scope.User(v)
		}, func(n string) string { return scope.Key("s", n) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &bulkOnly{t: t, m: map[string]string{tc.key("SAME"): "same", tc.key("DIFF"): "old"}}
			rep, err := Import(ctx, tc.view(b), in, ImportOverwrite)
			if err != nil {
				t.Fatal(err)
			}
			if b.calls != 2 {
				t.Errorf("the import made %d bulk calls, want 2 (one read, one write)", b.calls)
			}
			if len(rep.Added) != 2 || len(rep.Overwritten) != 1 || len(rep.Unchanged) != 1 {
				t.Errorf("report %+v", rep)
			}
			for n, want := range map[string]string{"A": "1", "B": "2", "SAME": "same", "DIFF": "new"} {
				if got := b.m[tc.key(n)]; got != want {
					t.Errorf("%s = %q, want %q", tc.key(n), got, want)
				}
			}
		})
	}
}

// ImportLists does what Import does with the same secrets, in every mode,
// in an empty store and over one with entries; the caller's lists are left
// as they were, and lists of different lengths are refused.
func TestImportLists(t *testing.T) {
	ctx := context.Background()
	existing := map[string]string{"B": "old", "C": "same"}
	names := []string{"A", "B", "C", "D"}
	values := [][]byte{[]byte("a"), []byte("new"), []byte("same"), []byte("d")}
	for _, mode := range []ImportMode{ImportFail, ImportOverwrite, ImportSkipExisting} {
		for _, seed := range []map[string]string{nil, existing} {
			// run returns what imp reported and the store after, as text.
			run := func(imp func(p store.Provider) (*ImportReport, error)) string {
				m := &bulkOnly{t: t, m: map[string]string{}}
				for k, v := range seed {
					m.m[k] = v
				}
				rep, err := imp(m)
				return fmt.Sprint(rep, err, m.m)
			}
			var secrets []Secret
			for i, n := range names {
				secrets = append(secrets, Secret{n, values[i]})
			}
			gotI := run(func(p store.Provider) (*ImportReport, error) { return Import(ctx, p, secrets, mode) })
			gotL := run(func(p store.Provider) (*ImportReport, error) { return ImportLists(ctx, p, names, values, mode) })
			if gotI != gotL {
				t.Errorf("mode %d over %v: Import gave %s; ImportLists %s", mode, seed, gotI, gotL)
			}
			if fmt.Sprint(names) != "[A B C D]" {
				t.Fatalf("ImportLists changed the caller's names to %q", names)
			}
		}
	}
	if _, err := ImportLists(ctx, &bulkOnly{t: t, m: map[string]string{}}, names, values[:3], ImportFail); err == nil {
		t.Error("ImportLists of 4 names and 3 values = no error")
	}
}
