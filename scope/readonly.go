package scope

import (
	"context"
	"fmt"

	"github.com/hush-secrets/hush/store"
)

// ReadOnlyView passes reads to a Provider and refuses every write. Build
// it with [ReadOnly].
type ReadOnlyView struct {
	p store.Provider
}

var (
	_ store.Provider = (*ReadOnlyView)(nil)
	_ store.Updater  = (*ReadOnlyView)(nil)
)

// ReadOnly returns a view of p that reads through to p and refuses every
// write, without calling p, with an error wrapping store.ErrReadOnly (a
// *store.KeyError for Set and Delete). It composes with the other views:
// ReadOnly(User(p)) shows exactly what User(p) shows.
func ReadOnly(p store.Provider) *ReadOnlyView {
	return &ReadOnlyView{p: p}
}

// Get returns p's Get.
func (r *ReadOnlyView) Get(ctx context.Context, name string) ([]byte, error) {
	return r.p.Get(ctx, name)
}

// List returns p's List.
func (r *ReadOnlyView) List(ctx context.Context) ([]store.Entry, error) {
	return r.p.List(ctx)
}

// Set refuses: it returns a *store.KeyError wrapping store.ErrReadOnly.
func (r *ReadOnlyView) Set(ctx context.Context, name string, value []byte) error {
	return &store.KeyError{Op: "set", Name: name, Err: store.ErrReadOnly}
}

// Delete refuses: it returns a *store.KeyError wrapping store.ErrReadOnly.
func (r *ReadOnlyView) Delete(ctx context.Context, name string) error {
	return &store.KeyError{Op: "delete", Name: name, Err: store.ErrReadOnly}
}

// DeleteMany refuses with an error wrapping store.ErrReadOnly.
func (r *ReadOnlyView) DeleteMany(ctx context.Context, names []string) error {
	return fmt.Errorf("delete many: %w", store.ErrReadOnly)
}

// Cleanup refuses with an error wrapping store.ErrReadOnly.
func (r *ReadOnlyView) Cleanup(ctx context.Context) error {
	return fmt.Errorf("cleanup: %w", store.ErrReadOnly)
}

// Update runs fn with a Tx whose reads go to p one by one (they take no
// lock and are not a snapshot) and whose writes return a *store.KeyError
// wrapping store.ErrReadOnly. Update returns fn's error.
func (r *ReadOnlyView) Update(ctx context.Context, fn func(store.Tx) error) error {
	return fn(roTx{ctx: ctx, p: r.p})
}

type roTx struct {
	ctx context.Context
	p   store.Provider
}

func (t roTx) Get(name string) ([]byte, error)     { return t.p.Get(t.ctx, name) }
func (t roTx) List() ([]store.Entry, error)        { return t.p.List(t.ctx) }
func (t roTx) Set(name string, _ []byte) error     { return roErr("set", name) }
func (t roTx) SetDescription(name, _ string) error { return roErr("describe", name) }
func (t roTx) Delete(name string) error            { return roErr("delete", name) }

func (t roTx) Lookup(name string) (store.Entry, error) {
	es, err := t.p.List(t.ctx)
	if err != nil {
		return store.Entry{}, err
	}
	for _, e := range es {
		if e.Name == name {
			return e, nil
		}
	}
	return store.Entry{}, &store.KeyError{Op: "lookup", Name: name, Err: store.ErrNotFound}
}

func roErr(op, name string) error {
	return &store.KeyError{Op: op, Name: name, Err: store.ErrReadOnly}
}
