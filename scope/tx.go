package scope

import (
	"context"
	"errors"

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
