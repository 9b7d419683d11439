package scope

import (
	"context"
	"errors"
	"fmt"

	"github.com/hush-secrets/hush/store"
)

// View is a Provider that shows another Provider through a key mapping,
// as [io/fs.Sub] shows a directory of a file system: each name a caller
// gives becomes a stored key of the Provider underneath or is refused,
// each stored key maps back to a caller's name or is hidden, and writes
// are allowed or not. Build one with [Scoped], [User] or [ReadOnly]; views
// compose in any order.
//
// For every operation, a name the view refuses gives a *store.KeyError
// naming the operation and the caller's name, without calling the
// Provider underneath. Errors from that Provider keep their meaning for
// errors.Is and errors.As; a *store.KeyError at the top of one is rebuilt
// with the caller's name, so a caller never sees a stored key it did not
// ask about (this relies on the Provider naming keys only there, as
// [store.Provider] requires). List shows the entries whose keys map back,
// under the caller's names, in order.
//
// A View is never modified after it is built, so it is safe for
// concurrent use whenever the Provider underneath is.
type View struct {
	p        store.Provider
	m        mapping
	readOnly bool

	// The migration fallback of a scoped view; both nil unless built by
	// WithFallback.
	legacy func(name string) bool
	done   func(ctx context.Context) (bool, error)
}

var (
	_ store.Provider           = (*View)(nil)
	_ store.Updater            = (*View)(nil)
	_ store.GetManyProvider    = (*View)(nil)
	_ store.AllProvider        = (*View)(nil)
	_ store.EachProvider       = (*View)(nil)
	_ store.DeleteManyProvider = (*View)(nil)
	_ store.CleanupProvider    = (*View)(nil)
)

// mapping is how a view's names relate to the keys underneath it.
type mapping interface {
	// key returns the stored key of a caller's name, or the reason the
	// view refuses the name (the Err of the *store.KeyError it returns).
	key(name string) (string, error)
	// name returns the caller's name of a stored key, and false if the
	// view hides the key. It keeps sorted keys sorted.
	name(key string) (string, bool)
	// nameOf is name for a key lent as bytes: the caller's name, a part
	// of key, and false if the view hides the key.
	nameOf(key []byte) ([]byte, bool)
}

// Scoped returns a view of p in which every name is stored as
// Key(scope, name). List shows only this scope's entries, with the prefix
// stripped, and Cleanup deletes only them.
//
// Scoped returns an error wrapping ErrInvalidScope if scope is not valid
// (see [ValidateScope]), so a bad scope is caught when the view is built
// rather than at first use.
//
// Names must pass [store.ValidateName] to be set (and
// [store.ValidateExistingName] to be read or deleted, so that a secret
// stored under an older rule stays reachable), and the stored key must fit in
// store.MaxNameLen bytes; otherwise the view refuses them with an error
// wrapping store.ErrInvalidName (and store.ErrLimit for the length).
// Errors name the key the caller used: the scope prefix never appears in
// them, as fs.Sub strips its directory from paths.
func Scoped(p store.Provider, scope string) (*View, error) {
	if err := ValidateScope(scope); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.New("scope: nil provider")
	}
	return &View{p: p, m: prefixed{scope: scope, prefix: Key(scope, "")}}, nil
}

// User returns a view of p for user-named secrets. Every operation on a
// reserved name (one starting with [Prefix]) fails with a
// *store.KeyError naming the operation and the name and wrapping
// ErrReserved. List hides reserved keys, DeleteMany refuses the whole
// batch if any name is reserved, and Cleanup deletes only the keys that
// are not reserved. A name that contains Prefix later on is an ordinary
// name. Every other call, and every error, is p's.
func User(p store.Provider) *View {
	return &View{p: p, m: unreserved{}}
}

// ReadOnly returns a view of p that reads through to p and refuses every
// write, without calling p, with an error wrapping store.ErrReadOnly (a
// *store.KeyError for writes of one name). It shows exactly what p shows:
// ReadOnly(User(p)) lists what User(p) lists.
func ReadOnly(p store.Provider) *View {
	return &View{p: p, m: identity{}, readOnly: true}
}

// Scope returns the scope of a view built by [Scoped], and "" for any
// other view.
func (v *View) Scope() string {
	if s, ok := v.m.(prefixed); ok {
		return s.scope
	}
	return ""
}

// prefixed is the mapping of Scoped: key = prefix + name.
type prefixed struct{ scope, prefix string }

// key checks name with store.ValidateExistingName, so that a secret
// stored before format characters were refused can still be read and
// deleted; the store refuses a new name past ValidateName's rule when it
// is set, on the whole key (the prefix is plain ASCII).
func (s prefixed) key(name string) (string, error) {
	if err := store.ValidateExistingName(name); err != nil {
		return "", err
	}
	if len(s.prefix)+len(name) > store.MaxNameLen {
		return "", fmt.Errorf("%w: %w: name is %d bytes, the limit in scope %s is %d",
			store.ErrInvalidName, store.ErrLimit, len(name), s.scope, store.MaxNameLen-len(s.prefix))
	}
	return s.prefix + name, nil
}

func (s prefixed) name(key string) (string, bool) {
	if len(key) <= len(s.prefix) || key[:len(s.prefix)] != s.prefix {
		return "", false
	}
	return key[len(s.prefix):], true
}

func (s prefixed) nameOf(key []byte) ([]byte, bool) {
	if len(key) <= len(s.prefix) || string(key[:len(s.prefix)]) != s.prefix {
		return nil, false
	}
	return key[len(s.prefix):], true
}

// unreserved is the mapping of User: names are keys, reserved ones
// refused and hidden.
type unreserved struct{}

func (unreserved) key(name string) (string, error) {
	if IsReserved(name) {
		return "", fmt.Errorf("%w (names starting with %s belong to programs' scopes)", ErrReserved, Prefix)
	}
	return name, store.ValidateExistingName(name)
}

func (unreserved) name(key string) (string, bool) { return key, !IsReserved(key) }

func (unreserved) nameOf(key []byte) ([]byte, bool) {
	return key, len(key) < len(Prefix) || string(key[:len(Prefix)]) != Prefix
}

// identity is the mapping of ReadOnly: names are keys.
//
// Every mapping checks names with store.ValidateExistingName, so that an
// invalid name is store.ErrInvalidName in every operation of every view,
// whatever the Provider underneath does with it.
type identity struct{}

func (identity) key(name string) (string, error)  { return name, store.ValidateExistingName(name) }
func (identity) name(key string) (string, bool)   { return key, true }
func (identity) nameOf(key []byte) ([]byte, bool) { return key, true }

// key returns the stored key of name, or a *store.KeyError for op if the
// view refuses name.
func (v *View) key(op, name string) (string, error) {
	k, err := v.m.key(name)
	if err != nil {
		return "", &store.KeyError{Op: op, Name: name, Err: err}
	}
	return k, nil
}

// writeKey is key for a write, which a read-only view refuses first.
func (v *View) writeKey(op, name string) (string, error) {
	if v.readOnly {
		return "", &store.KeyError{Op: op, Name: name, Err: store.ErrReadOnly}
	}
	return v.key(op, name)
}

// fix returns err, from the Provider underneath, with a *store.KeyError at
// its top rebuilt to name the caller's name of the stored key it names.
// The rebuilt error wraps what the original wrapped, so errors.Is and
// errors.As reach the same errors. Nothing else is changed: the contract
// of store.Provider keeps key names out of the rest of an error.
//
// It must be applied once, to errors straight from the Provider
// underneath, since a caller's name may itself look like a stored key.
func (v *View) fix(err error) error {
	ke, ok := err.(*store.KeyError)
	if !ok {
		return err
	}
	name, ok := v.m.name(ke.Name)
	if !ok || name == ke.Name {
		return err
	}
	return &store.KeyError{Op: ke.Op, Name: name, Err: ke.Err}
}

// shown returns the entries of es that the view shows, under the caller's
// names, filtered in place: es is the caller's, fresh from a List, and a
// copy would touch as much memory again.
func (v *View) shown(es []store.Entry) []store.Entry {
	out := es[:0]
	for _, e := range es {
		if n, ok := v.m.name(e.Name); ok {
			e.Name = n
			out = append(out, e)
		}
	}
	clear(es[len(out):])
	return out
}

// shownKeys returns the stored keys of the entries of es that the view
// shows.
func (v *View) shownKeys(es []store.Entry) []string {
	var keys []string
	for _, e := range es {
		if _, ok := v.m.name(e.Name); ok {
			keys = append(keys, e.Name)
		}
	}
	return keys
}

// Get returns the value of name, or an error wrapping store.ErrNotFound if
// it is absent (see [View.WithFallback] for the migration fallback of a
// scoped view). Any other error means the store could not be read.
func (v *View) Get(ctx context.Context, name string) ([]byte, error) {
	k, err := v.key("get", name)
	if err != nil {
		return nil, err
	}
	val, err := v.p.Get(ctx, k)
	if err == nil {
		return val, nil
	}
	err = v.fix(err)
	if v.legacy != nil && errors.Is(err, store.ErrNotFound) {
		return v.fallback(ctx, name, k, err)
	}
	return nil, err
}

// GetMany returns the values of names, in order, through [store.GetMany]
// on the Provider underneath: from one version of the store when that
// Provider reads many names at once. Its errors are those of a loop of
// [View.Get] calls that stops at the first error: the values before the
// first name the view refuses, or the Provider fails for, and that
// name's error, naming the caller's name. A view with a migration
// fallback ([View.WithFallback]) reads each name with Get, so that a
// missing scoped key can still fall back to its bare one.
func (v *View) GetMany(ctx context.Context, names []string) ([][]byte, error) {
	if v.legacy != nil {
		// Hiding the method makes store.GetMany loop over v.Get.
		return store.GetMany(ctx, struct{ store.Provider }{v}, names)
	}
	keys := make([]string, 0, len(names))
	var refused error
	for _, n := range names {
		k, err := v.key("get", n)
		if err != nil {
			refused = err
			break
		}
		keys = append(keys, k)
	}
	vals, err := store.GetMany(ctx, v.p, keys)
	if err != nil {
		return vals, v.fix(err)
	}
	return vals, refused
}

// Set creates or replaces name; the errors are those of the Provider
// underneath, naming the caller's name, or the view's refusal.
func (v *View) Set(ctx context.Context, name string, value []byte) error {
	k, err := v.writeKey("set", name)
	if err != nil {
		return err
	}
	return v.fix(v.p.Set(ctx, k, value))
}

// Delete removes name. It returns an error wrapping store.ErrNotFound if
// name is absent.
func (v *View) Delete(ctx context.Context, name string) error {
	k, err := v.writeKey("delete", name)
	if err != nil {
		return err
	}
	return v.fix(v.p.Delete(ctx, k))
}

// List returns the entries the view shows, under the caller's names,
// sorted, with their descriptions and timestamps. It filters the slice
// the Provider underneath returns in place, as the caller's to keep.
func (v *View) List(ctx context.Context) ([]store.Entry, error) {
	es, err := v.p.List(ctx)
	if err != nil {
		return nil, v.fix(err)
	}
	return v.shown(es), nil
}

// All returns the names the view lists, in List's order, and their
// values, through [store.All] on the Provider underneath: from one read
// of the store when that Provider reads everything at once. The names and
// values underneath are filtered in place, and the values the view hides
// are cleared. The errors are those of List. A migration fallback
// ([View.WithFallback]) plays no part: List shows only the scoped keys,
// whose values All reads.
func (v *View) All(ctx context.Context) ([]string, [][]byte, error) {
	keys, vals, err := store.All(ctx, v.p)
	if err != nil {
		return nil, nil, v.fix(err)
	}
	n := 0
	for i, k := range keys {
		name, ok := v.m.name(k)
		if !ok {
			clear(vals[i])
			continue
		}
		keys[n], vals[n] = name, vals[i]
		n++
	}
	clear(keys[n:])
	clear(vals[n:])
	return keys[:n], vals[:n], nil
}

// Each calls fn with the name and value of each entry the view lists, in
// List's order, lent as [store.EachProvider] says, through [store.Each] on
// the Provider underneath: from one read of the store, without a copy,
// when that Provider lends them. The keys the view hides are passed over.
// fn's first error stops Each and is returned as it is; the other errors
// are those of List. As with All, a migration fallback plays no part.
func (v *View) Each(ctx context.Context, fn func(name, value []byte) error) error {
	var fnErr error
	err := store.Each(ctx, v.p, func(key, value []byte) error {
		name, ok := v.m.nameOf(key)
		if !ok {
			return nil
		}
		fnErr = fn(name, value)
		return fnErr
	})
	if fnErr != nil {
		return fnErr // fn's own, naming the caller's names already
	}
	return v.fix(err)
}

// DeleteMany removes names, ignoring absent ones, through
// [store.DeleteMany] on the Provider underneath: one atomic change when
// that Provider offers one. It is all or nothing: every name is checked
// first, and if the view refuses one, the error names it and nothing is
// deleted. A read-only view refuses every call.
func (v *View) DeleteMany(ctx context.Context, names []string) error {
	if v.readOnly {
		return fmt.Errorf("delete many: %w", store.ErrReadOnly)
	}
	keys := make([]string, len(names))
	for i, n := range names {
		k, err := v.key("delete", n)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	return v.fix(store.DeleteMany(ctx, v.p, keys))
}

// Cleanup deletes every entry the view shows, and nothing else: as one
// atomic change if the Provider underneath is a [store.Updater], and
// otherwise by listing it and then calling [store.DeleteMany], so that an
// entry added in between survives. With nothing to delete it writes
// nothing. A read-only view refuses every call.
func (v *View) Cleanup(ctx context.Context) error {
	if v.readOnly {
		return fmt.Errorf("cleanup: %w", store.ErrReadOnly)
	}
	if _, ok := v.p.(store.Updater); ok {
		return v.fix(store.Update(ctx, v.p, func(tx store.Tx) error {
			es, err := tx.List()
			if err != nil {
				return err
			}
			for _, k := range v.shownKeys(es) {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	es, err := v.p.List(ctx)
	if err != nil {
		return v.fix(err)
	}
	keys := v.shownKeys(es)
	if len(keys) == 0 {
		return nil
	}
	return v.fix(store.DeleteMany(ctx, v.p, keys))
}
