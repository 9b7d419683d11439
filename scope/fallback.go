package scope

import (
	"context"
	"errors"
	"fmt"

	"github.com/hush-secrets/hush/store"
)

// WithFallback returns a copy of a view built by [Scoped] whose Get falls
// back to the bare key while a migration into its scope is under way.
// When the scoped key is absent, legacy(name) reports true, and done(ctx)
// reports false, Get returns the value stored under name itself. In every
// other case Get behaves as without a fallback; in particular, once done
// reports true no bare key is ever read, so a user's secret cannot be
// read by a system caller after the migration.
//
// An error from done, or any error other than not-found from the bare
// read, is returned rather than taken as absence. If the bare key is gone
// too, the scoped key is read once more, since a migrator writes it before
// deleting the bare one. If legacy or done is nil, or v was not built by
// Scoped (its names are already bare keys), the copy has no fallback.
func (v *View) WithFallback(legacy func(name string) bool, done func(ctx context.Context) (bool, error)) *View {
	c := *v
	c.legacy, c.done = legacy, done
	if legacy == nil || done == nil || v.Scope() == "" {
		c.legacy, c.done = nil, nil
	}
	return &c
}

// fallback reads the bare key name after its scoped key, key, was not
// found (notFound is that error).
func (v *View) fallback(ctx context.Context, name, key string, notFound error) ([]byte, error) {
	if !v.legacy(name) {
		return nil, notFound
	}
	done, err := v.done(ctx)
	if err != nil {
		return nil, &store.KeyError{Op: "get", Name: name,
			Err: fmt.Errorf("checking whether the migration into scope %s is done: %w", v.Scope(), err)}
	}
	if done {
		return nil, notFound
	}
	// The bare key is the caller's name: its errors need no fixing.
	val, err := v.p.Get(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// A migrator writes the scoped key before it deletes the bare
		// one, so a bare key that vanished since the scoped read missed
		// has moved: read the scoped key once more.
		val, err := v.p.Get(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, notFound
		case err != nil:
			return nil, v.fix(err)
		}
		return val, nil
	case err != nil:
		return nil, err
	}
	return val, nil
}
