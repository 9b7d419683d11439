package scope

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hush-secrets/hush/store"
)

// ScopedView is a Provider that keeps its keys in one reserved scope of an
// underlying Provider. Build it with [Scoped]. A ScopedView is never
// modified after it is built, so it is safe for concurrent use whenever
// the underlying Provider is; the same holds for [UserView] and
// [ReadOnlyView].
type ScopedView struct {
	p      store.Provider
	scope  string
	prefix string // Key(scope, "")

	// The migration fallback; both nil unless built by WithFallback.
	legacy func(name string) bool
	done   func(ctx context.Context) (bool, error)
}

var (
	_ store.Provider = (*ScopedView)(nil)
	_ store.Updater  = (*ScopedView)(nil)
)

// Scoped returns a view of p in which every name is stored as
// Key(scope, name). List shows only this scope's entries, with the prefix
// stripped, and Cleanup deletes only them.
//
// Scoped returns an error wrapping ErrInvalidScope if scope is not valid
// (see [ValidateScope]), so a bad scope is caught when the view is built
// rather than at first use.
//
// Names must pass [store.ValidateName] and the stored key must fit in
// store.MaxNameLen bytes; otherwise the view refuses them, without calling
// p, with an error wrapping store.ErrInvalidName. Errors from p keep their
// meaning (errors.Is still finds the sentinel) but name the key the caller
// used: the scope prefix never appears in them, as fs.Sub strips its
// directory from paths.
func Scoped(p store.Provider, scope string) (*ScopedView, error) {
	if err := ValidateScope(scope); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.New("scope: nil provider")
	}
	return &ScopedView{p: p, scope: scope, prefix: Key(scope, "")}, nil
}

// Scope returns the view's scope name.
func (s *ScopedView) Scope() string { return s.scope }

// WithFallback returns a copy of s whose Get falls back to the bare key
// while a migration into this scope is under way. When the scoped key is
// absent, legacy(name) reports true, and done(ctx) reports false, Get
// returns the value stored under name itself. In every other case Get
// behaves as without a fallback; in particular, once done reports true no
// bare key is ever read, so a user's secret cannot be read by a system
// caller after the migration.
//
// An error from done, or any error other than not-found from the bare
// read, is returned rather than taken as absence. If the bare key is gone
// too, the scoped key is read once more, since a migrator writes it before
// deleting the bare one. If legacy or done is nil the copy has no fallback.
func (s *ScopedView) WithFallback(legacy func(name string) bool, done func(ctx context.Context) (bool, error)) *ScopedView {
	c := *s
	c.legacy, c.done = legacy, done
	if legacy == nil || done == nil {
		c.legacy, c.done = nil, nil
	}
	return &c
}

// key returns the stored key of name, or a *store.KeyError for op if the
// name is invalid or the stored key would be too long.
func (s *ScopedView) key(op, name string) (string, error) {
	if err := store.ValidateName(name); err != nil {
		return "", &store.KeyError{Op: op, Name: name, Err: err}
	}
	k := s.prefix + name
	if len(k) > store.MaxNameLen {
		return "", &store.KeyError{Op: op, Name: name, Err: fmt.Errorf(
			"%w: %w: name is %d bytes, the limit in scope %s is %d",
			store.ErrInvalidName, store.ErrLimit, len(name), s.scope, store.MaxNameLen-len(s.prefix))}
	}
	return k, nil
}

// name returns the caller's name for a stored key of this scope.
func (s *ScopedView) name(key string) (string, bool) {
	n, ok := strings.CutPrefix(key, s.prefix)
	return n, ok && n != ""
}

// Get returns the value of name in this scope, or an error wrapping
// store.ErrNotFound if it is absent (see [ScopedView.WithFallback] for the
// migration fallback). Any other error means the store could not be read.
func (s *ScopedView) Get(ctx context.Context, name string) ([]byte, error) {
	k, err := s.key("get", name)
	if err != nil {
		return nil, err
	}
	v, err := s.p.Get(ctx, k)
	if err == nil {
		return v, nil
	}
	err = s.fix(err)
	if s.legacy == nil || !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return s.fallback(ctx, name, err)
}

// fallback reads the bare key name after the scoped key was not found
// (notFound is that error).
func (s *ScopedView) fallback(ctx context.Context, name string, notFound error) ([]byte, error) {
	if !s.legacy(name) {
		return nil, notFound
	}
	done, err := s.done(ctx)
	if err != nil {
		return nil, &store.KeyError{Op: "get", Name: name,
			Err: fmt.Errorf("checking whether the migration into scope %s is done: %w", s.scope, err)}
	}
	if done {
		return nil, notFound
	}
	// The bare key is the caller's name: its errors need no fixing.
	v, err := s.p.Get(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// A migrator writes the scoped key before it deletes the bare
		// one, so a bare key that vanished since the scoped read missed
		// has moved: read the scoped key once more.
		v, err := s.p.Get(ctx, s.prefix+name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, notFound
		case err != nil:
			return nil, s.fix(err)
		}
		return v, nil
	case err != nil:
		return nil, err
	}
	return v, nil
}

// Set creates or replaces name in this scope; errors are those of the
// underlying Provider's Set, naming the caller's name.
func (s *ScopedView) Set(ctx context.Context, name string, value []byte) error {
	k, err := s.key("set", name)
	if err != nil {
		return err
	}
	return s.fix(s.p.Set(ctx, k, value))
}

// Delete removes name from this scope. It returns an error wrapping
// store.ErrNotFound if name is absent.
func (s *ScopedView) Delete(ctx context.Context, name string) error {
	k, err := s.key("delete", name)
	if err != nil {
		return err
	}
	return s.fix(s.p.Delete(ctx, k))
}

// List returns this scope's entries, names without the prefix, sorted, with
// their descriptions and timestamps. Keys of other scopes and bare keys are
// never shown.
func (s *ScopedView) List(ctx context.Context) ([]store.Entry, error) {
	es, err := s.p.List(ctx)
	if err != nil {
		return nil, s.fix(err)
	}
	return s.filter(es), nil
}

// filter keeps the entries of this scope, renamed to the caller's names.
// Stripping a common prefix keeps them sorted.
func (s *ScopedView) filter(es []store.Entry) []store.Entry {
	out := make([]store.Entry, 0, len(es))
	for _, e := range es {
		if n, ok := s.name(e.Name); ok {
			e.Name = n
			out = append(out, e)
		}
	}
	return out
}

// DeleteMany removes names from this scope as one atomic change of the
// underlying Provider (its DeleteMany). Absent names are ignored. If any
// name is invalid, nothing is deleted and p is not called.
func (s *ScopedView) DeleteMany(ctx context.Context, names []string) error {
	keys := make([]string, len(names))
	for i, n := range names {
		k, err := s.key("delete", n)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	return s.fix(store.DeleteMany(ctx, s.p, keys))
}

// Cleanup deletes every entry of this scope, and nothing else, as one
// atomic change. With nothing to delete it writes nothing. If p is not a
// [store.Updater] the listing and the deletion are two steps, so an entry
// added between them survives.
func (s *ScopedView) Cleanup(ctx context.Context) error {
	if u, ok := s.p.(store.Updater); ok {
		return s.fix(u.Update(ctx, func(tx store.Tx) error {
			es, err := tx.List()
			if err != nil {
				return err
			}
			for _, e := range es {
				if _, ok := s.name(e.Name); ok {
					if err := tx.Delete(e.Name); err != nil {
						return err
					}
				}
			}
			return nil
		}))
	}
	es, err := s.p.List(ctx)
	if err != nil {
		return s.fix(err)
	}
	var keys []string
	for _, e := range es {
		if _, ok := s.name(e.Name); ok {
			keys = append(keys, e.Name)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return s.fix(store.DeleteMany(ctx, s.p, keys))
}

// Update runs fn with a Tx confined to this scope: every name is prefixed
// and validated as in the view's methods, and Tx.List shows only this
// scope. The batch is atomic when p is a [store.Updater] (see
// [store.Update]). The Tx has no migration fallback.
func (s *ScopedView) Update(ctx context.Context, fn func(store.Tx) error) error {
	var fnErr error
	err := store.Update(ctx, s.p, func(tx store.Tx) error {
		fnErr = fn(&scopedTx{s: s, tx: tx})
		return fnErr
	})
	if fnErr != nil && errors.Is(err, fnErr) {
		// fn's own error, whose Tx errors already name the caller's keys.
		// Fixing it again would strip a name that merely starts like a
		// stored key ("__hush_a_x" in scope a).
		return err
	}
	return s.fix(err)
}

// scopedTx confines a Tx to one scope.
type scopedTx struct {
	s  *ScopedView
	tx store.Tx
}

func (t *scopedTx) Get(name string) ([]byte, error) {
	k, err := t.s.key("get", name)
	if err != nil {
		return nil, err
	}
	v, err := t.tx.Get(k)
	return v, t.s.fix(err)
}

func (t *scopedTx) Lookup(name string) (store.Entry, error) {
	k, err := t.s.key("lookup", name)
	if err != nil {
		return store.Entry{}, err
	}
	e, err := t.tx.Lookup(k)
	if err != nil {
		return store.Entry{}, t.s.fix(err)
	}
	e.Name = name
	return e, nil
}

func (t *scopedTx) Set(name string, value []byte) error {
	k, err := t.s.key("set", name)
	if err != nil {
		return err
	}
	return t.s.fix(t.tx.Set(k, value))
}

func (t *scopedTx) SetDescription(name, description string) error {
	k, err := t.s.key("describe", name)
	if err != nil {
		return err
	}
	return t.s.fix(t.tx.SetDescription(k, description))
}

func (t *scopedTx) Delete(name string) error {
	k, err := t.s.key("delete", name)
	if err != nil {
		return err
	}
	return t.s.fix(t.tx.Delete(k))
}

func (t *scopedTx) List() ([]store.Entry, error) {
	es, err := t.tx.List()
	if err != nil {
		return nil, t.s.fix(err)
	}
	return t.s.filter(es), nil
}
