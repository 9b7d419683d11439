package migrate

import (
	"context"
	"testing"

	"github.com/hush-secrets/hush/store"
)

// counted is a store.Updater whose Tx counts the calls a migration makes
// one name at a time and those for many names at once, which it passes
// on to the store's own bulk methods.
type counted struct {
	*store.File
	perKey, bulk, names, lists int
}

type countedTx struct {
	store.Tx
	c *counted
}

func (c *counted) Update(ctx context.Context, fn func(store.Tx) error) error {
	return c.File.Update(ctx, func(tx store.Tx) error { return fn(countedTx{tx, c}) })
}

func (t countedTx) Get(name string) ([]byte, error) { t.c.perKey++; return t.Tx.Get(name) }
func (t countedTx) Set(name string, v []byte) error { t.c.perKey++; return t.Tx.Set(name, v) }
func (t countedTx) Delete(name string) error        { t.c.perKey++; return t.Tx.Delete(name) }

func (t countedTx) List() ([]store.Entry, error) { t.c.lists++; return t.Tx.List() }

func (t countedTx) Names(prefix string) ([]string, error) {
	t.c.names++
	return store.TxNames(t.Tx, prefix)
}

func (t countedTx) Values(names []string) ([][]byte, error) {
	t.c.bulk++
	return store.TxValues(t.Tx, names)
}

func (t countedTx) SetMany(names []string, values [][]byte) error {
	t.c.bulk++
	return store.TxSetMany(t.Tx, names, values)
}

func (t countedTx) DeleteMany(names []string) error {
	t.c.bulk++
	return store.TxDeleteMany(t.Tx, names)
}

// On a store with atomic batches every move's reads and writes go
// through the Tx's bulk methods (three calls a batch), not one call a
// key: only the record is read and written by name. The keys to move are
// listed by name, one call a rule, and the new keys that exist one call a
// scope, not with their entries. With clashes the
// end state is the scenario's either way.
func TestApplyBatchesUseBulkCalls(t *testing.T) {
	for _, clashes := range []bool{false, true} {
		sc := newScenario(60, clashes)
		f := newStore(t)
		sc.seed(t, f)
		c := &counted{File: f}
		rep, err := sc.m.Apply(ctx, c)
		if !clashes && err != nil || clashes && len(rep.Clashes) == 0 {
			t.Fatalf("clashes %v: Apply = %+v, %v", clashes, rep, err)
		}
		sc.checkFinal(t, f)
		wantPerKey := 2 // the record: read, then written
		if clashes {
			wantPerKey = 0 // not recorded
		}
		if c.bulk != 6 || c.perKey != wantPerKey {
			t.Errorf("clashes %v: %d bulk calls and %d calls by name; want 6 and %d", clashes, c.bulk, c.perKey, wantPerKey)
		}
		scopes := map[string]bool{}
		for _, r := range sc.m.Rules {
			scopes[r.Scope] = true
		}
		if want := len(sc.m.Rules) + len(scopes); c.names != want || c.lists != 0 {
			t.Errorf("clashes %v: %d listings of names and %d of entries; want %d and none", clashes, c.names, c.lists, want)
		}
	}
}
