package scope

import (
	"context"
	"fmt"

	"github.com/hush-secrets/hush/store"
)

// UserView is the Provider a program hands to people: it hides the
// reserved namespace and refuses to touch it. Build it with [User].
type UserView struct {
	p store.Provider
}

var (
	_ store.Provider = (*UserView)(nil)
	_ store.Updater  = (*UserView)(nil)
)

// User returns a view of p for user-named secrets. Get, Set and Delete of
// a reserved name (one starting with [Prefix]) fail with a
// *store.KeyError naming the operation and the name and wrapping
// ErrReserved, without calling p. List hides reserved keys, DeleteMany
// refuses the whole batch if any name is reserved, and Cleanup deletes
// only the keys that are not reserved. A name that contains Prefix later
// on is an ordinary name. Every other call, and every error, is p's.
func User(p store.Provider) *UserView {
	return &UserView{p: p}
}

// refuse returns the error for op on a reserved name, or nil.
func refuse(op, name string) error {
	if !IsReserved(name) {
		return nil
	}
	return &store.KeyError{Op: op, Name: name,
		Err: fmt.Errorf("%w (names starting with %s belong to programs' scopes)", ErrReserved, Prefix)}
}

// Get returns the value of name; see [User] for reserved names.
func (u *UserView) Get(ctx context.Context, name string) ([]byte, error) {
	if err := refuse("get", name); err != nil {
		return nil, err
	}
	return u.p.Get(ctx, name)
}

// Set creates or replaces name; see [User] for reserved names.
func (u *UserView) Set(ctx context.Context, name string, value []byte) error {
	if err := refuse("set", name); err != nil {
		return err
	}
	return u.p.Set(ctx, name, value)
}

// Delete removes name; see [User] for reserved names.
func (u *UserView) Delete(ctx context.Context, name string) error {
	if err := refuse("delete", name); err != nil {
		return err
	}
	return u.p.Delete(ctx, name)
}

// List returns the entries whose names are not reserved, sorted.
func (u *UserView) List(ctx context.Context) ([]store.Entry, error) {
	es, err := u.p.List(ctx)
	if err != nil {
		return nil, err
	}
	return userEntries(es), nil
}

func userEntries(es []store.Entry) []store.Entry {
	out := make([]store.Entry, 0, len(es))
	for _, e := range es {
		if !IsReserved(e.Name) {
			out = append(out, e)
		}
	}
	return out
}

// DeleteMany removes names as one atomic change (p's DeleteMany). It is
// all or nothing: every name is checked first, and if one is reserved the
// error names it and nothing is deleted.
func (u *UserView) DeleteMany(ctx context.Context, names []string) error {
	for _, n := range names {
		if err := refuse("delete", n); err != nil {
			return err
		}
	}
	return store.DeleteMany(ctx, u.p, names)
}

// Cleanup deletes every key that is not reserved, as one atomic change.
// With nothing to delete it writes nothing. If p is not a [store.Updater]
// the listing and the deletion are two steps.
func (u *UserView) Cleanup(ctx context.Context) error {
	if up, ok := u.p.(store.Updater); ok {
		return up.Update(ctx, func(tx store.Tx) error {
			es, err := tx.List()
			if err != nil {
				return err
			}
			for _, e := range userEntries(es) {
				if err := tx.Delete(e.Name); err != nil {
					return err
				}
			}
			return nil
		})
	}
	es, err := u.List(ctx)
	if err != nil || len(es) == 0 {
		return err
	}
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name
	}
	return store.DeleteMany(ctx, u.p, names)
}

// Update runs fn with a Tx that refuses reserved names as the view does
// and whose List hides them. The batch is atomic when p is a
// [store.Updater] (see [store.Update]).
func (u *UserView) Update(ctx context.Context, fn func(store.Tx) error) error {
	return store.Update(ctx, u.p, func(tx store.Tx) error {
		return fn(userTx{tx})
	})
}

// userTx refuses reserved names.
type userTx struct{ tx store.Tx }

func (t userTx) Get(name string) ([]byte, error) {
	if err := refuse("get", name); err != nil {
		return nil, err
	}
	return t.tx.Get(name)
}

func (t userTx) Lookup(name string) (store.Entry, error) {
	if err := refuse("lookup", name); err != nil {
		return store.Entry{}, err
	}
	return t.tx.Lookup(name)
}

func (t userTx) Set(name string, value []byte) error {
	if err := refuse("set", name); err != nil {
		return err
	}
	return t.tx.Set(name, value)
}

func (t userTx) SetDescription(name, description string) error {
	if err := refuse("describe", name); err != nil {
		return err
	}
	return t.tx.SetDescription(name, description)
}

func (t userTx) Delete(name string) error {
	if err := refuse("delete", name); err != nil {
		return err
	}
	return t.tx.Delete(name)
}

func (t userTx) List() ([]store.Entry, error) {
	es, err := t.tx.List()
	if err != nil {
		return nil, err
	}
	return userEntries(es), nil
}
