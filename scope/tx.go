package scope

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/hush-secrets/hush/store"
)

// Update runs fn with a Tx seen through the view: names are mapped and
// refused as by the view's methods, and Tx.List shows what the view
// shows. The batch is atomic when the Provider underneath is a
// [store.Updater] (see [store.Update]). If fn fails, Update returns fn's
// error as it is.
//
// On a read-only view the Tx's reads go to the Provider underneath one by
// one (they take no lock and are not a snapshot) and its writes fail with
// a *store.KeyError wrapping store.ErrReadOnly. The Tx has no migration
// fallback.
func (v *View) Update(ctx context.Context, fn func(store.Tx) error) error {
	p := v.p
	if v.readOnly {
		// Without p's Updater, store.Update hands out a Tx that reads p
		// directly and never locks or writes; the view's Tx refuses
		// every write before it gets there.
		p = struct{ store.Provider }{p}
	}
	var fnErr error
	err := store.Update(ctx, p, func(tx store.Tx) error {
		fnErr = fn(&viewTx{v: v, tx: tx})
		return fnErr
	})
	if fnErr != nil && errors.Is(err, fnErr) {
		// fn's own error, whose Tx errors already name the caller's names.
		// Fixing it again would rename a name that merely looks like a
		// stored key ("__hush_a_x" in scope a).
		return err
	}
	return v.fix(err)
}

// viewTx is a Tx seen through a view.
type viewTx struct {
	v  *View
	tx store.Tx
}

func (t *viewTx) Get(name string) ([]byte, error) {
	k, err := t.v.key("get", name)
	if err != nil {
		return nil, err
	}
	val, err := t.tx.Get(k)
	return val, t.v.fix(err)
}

func (t *viewTx) Lookup(name string) (store.Entry, error) {
	k, err := t.v.key("lookup", name)
	if err != nil {
		return store.Entry{}, err
	}
	e, err := t.tx.Lookup(k)
	if err != nil {
		return store.Entry{}, t.v.fix(err)
	}
	e.Name = name
	return e, nil
}

func (t *viewTx) Set(name string, value []byte) error {
	k, err := t.v.writeKey("set", name)
	if err != nil {
		return err
	}
	return t.v.fix(t.tx.Set(k, value))
}

func (t *viewTx) SetDescription(name, description string) error {
	k, err := t.v.writeKey("describe", name)
	if err != nil {
		return err
	}
	return t.v.fix(t.tx.SetDescription(k, description))
}

func (t *viewTx) Delete(name string) error {
	k, err := t.v.writeKey("delete", name)
	if err != nil {
		return err
	}
	return t.v.fix(t.tx.Delete(k))
}

func (t *viewTx) List() ([]store.Entry, error) {
	es, err := t.tx.List()
	if err != nil {
		return nil, t.v.fix(err)
	}
	return t.v.shown(es), nil
}

var (
	_ store.ValuesTx  = (*viewTx)(nil)
	_ store.SetManyTx = (*viewTx)(nil)
)

// Values implements [store.ValuesTx]: the names are mapped as Get maps
// them, up to the first the view refuses, and read with [store.TxValues]
// on the Tx underneath, in one call when it reads many at once.
func (t *viewTx) Values(names []string) ([][]byte, error) {
	keys, refused := t.keys("get", names, t.v.key)
	vals, err := store.TxValues(t.tx, keys)
	if err != nil {
		return vals, t.v.fix(err)
	}
	return vals, refused
}

// SetMany implements [store.SetManyTx]: the names are mapped as Set maps
// them, up to the first the view refuses (a read-only view refuses the
// first), and set with [store.TxSetMany] on the Tx underneath, in one
// call when it sets many at once. The error is the first a loop of Set
// would meet: the Tx underneath's for a name before the refused one, else
// the view's refusal.
func (t *viewTx) SetMany(names []string, values [][]byte) error {
	if len(names) != len(values) {
		panic("scope: SetMany: names and values differ in length")
	}
	keys, refused := t.keys("set", names, t.v.writeKey)
	if err := store.TxSetMany(t.tx, keys, values[:len(keys)]); err != nil {
		return t.v.fix(err)
	}
	return refused
}

var _ store.DeleteManyTx = (*viewTx)(nil)

// DeleteMany implements [store.DeleteManyTx]: the names are mapped as
// Delete maps them, up to the first the view refuses (a read-only view
// refuses the first), and deleted with [store.TxDeleteMany] on the Tx
// underneath, in one call when it deletes many at once. The error is the
// first a loop of Delete would meet (not-found aside): the Tx
// underneath's for a name before the refused one, else the view's
// refusal.
func (t *viewTx) DeleteMany(names []string) error {
	keys, refused := t.keys("delete", names, t.v.writeKey)
	if err := store.TxDeleteMany(t.tx, keys); err != nil {
		return t.v.fix(err)
	}
	return refused
}

var _ store.ReadBackTx = (*viewTx)(nil)

// ReadBack implements [store.ReadBackTx] with [store.TxReadBack] on the
// Tx underneath: check's values maps names as Values does (an error for
// the first the view refuses) and reads them from the store as written.
// It reports false, dropping check, where the Tx underneath cannot read
// back (a read-only view, or a Provider without atomic batches).
func (t *viewTx) ReadBack(check store.ReadBackCheck) bool {
	return store.TxReadBack(t.tx, func(values func([]string) ([][]byte, error)) error {
		return check(func(names []string) ([][]byte, error) {
			keys, refused := t.keys("get", names, t.v.key)
			vals, err := values(keys)
			if err != nil {
				return vals, t.v.fix(err)
			}
			return vals, refused
		})
	})
}

var _ store.NamesTx = (*viewTx)(nil)

// Names implements [store.NamesTx]: the names List shows that start with
// prefix, from [store.TxNames] on the Tx underneath, which lists the
// stored keys without their entries.
func (t *viewTx) Names(prefix string) ([]string, error) {
	keys, err := store.TxNames(t.tx, "")
	if err != nil {
		return nil, t.v.fix(err)
	}
	var names []string
	for _, k := range keys {
		if n, ok := t.v.m.name(k); ok && strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// keys maps names to stored keys with key, for op, up to the first name
// refused, and returns the keys before it and its error. A view whose
// names are its keys returns names itself.
func (t *viewTx) keys(op string, names []string, key func(op, name string) (string, error)) ([]string, error) {
	var keys []string
	for i, n := range names {
		k, err := key(op, n)
		if err != nil {
			if keys == nil {
				keys = names[:i]
			}
			return keys, err
		}
		if keys == nil && k != n {
			keys = make([]string, i, len(names))
			copy(keys, names[:i])
		}
		if keys != nil {
			keys = append(keys, k)
		}
	}
	if keys == nil {
		keys = names
	}
	return keys, nil
}
