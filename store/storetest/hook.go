package storetest

import (
	"context"
	"strings"

	"github.com/hush-secrets/hush/store"
)

// Hook is called before every call that a provider returned by [Wrap]
// passes on to the provider under it. op names the call:
//
//	"get", "set", "delete", "list", "deletemany", "cleanup", "update"
//
// for the Provider and Updater methods, and
//
//	"tx.get", "tx.lookup", "tx.set", "tx.describe", "tx.delete", "tx.list"
//
// for the methods of the Tx an Update hands to its function. name is the
// key the call got, "" for calls without one, and for "deletemany" the
// names joined with ",". If Hook returns an error, the call returns that
// error unchanged and the provider underneath is not called. A Hook may be
// called from several goroutines at once.
type Hook func(op, name string) error

// ValueHook returns the value that a "set" or "tx.set" of name passes on,
// in place of v. It must not modify v; it runs after the Hook of the same
// call has let it through.
type ValueHook func(name string, v []byte) []byte

// Wrap returns a Provider that calls hook before each call it passes on to
// p, so a test can record calls and fail chosen ones. The result also
// implements store.Updater if and only if p does; to hide p's Updater, wrap
// struct{ store.Provider }{p}. It always implements
// store.DeleteManyProvider and store.CleanupProvider, passing those calls
// on through store.DeleteMany and store.Cleanup, so they reach p's own
// method when p has one and p's fallback otherwise. A nil hook lets every
// call through.
func Wrap(p store.Provider, hook Hook) store.Provider {
	return WrapValues(p, hook, nil)
}

// WrapValues is [Wrap] that also rewrites written values with value (nil:
// values pass unchanged), for a backend that silently stores other bytes.
func WrapValues(p store.Provider, hook Hook, value ValueHook) store.Provider {
	h := &hooked{p: p, hook: hook, value: value}
	if _, ok := p.(store.Updater); ok {
		return hookedU{h}
	}
	return h
}

type hooked struct {
	p     store.Provider
	hook  Hook
	value ValueHook
}

// hookedU is hooked over an Updater.
type hookedU struct{ *hooked }

var (
	_ store.Provider           = (*hooked)(nil)
	_ store.DeleteManyProvider = (*hooked)(nil)
	_ store.CleanupProvider    = (*hooked)(nil)
	_ store.Updater            = hookedU{}
	_ store.Tx                 = hookedTx{}
)

func (h *hooked) call(op, name string) error {
	if h.hook == nil {
		return nil
	}
	return h.hook(op, name)
}

func (h *hooked) rewrite(name string, v []byte) []byte {
	if h.value == nil {
		return v
	}
	return h.value(name, v)
}

func (h *hooked) Get(ctx context.Context, name string) ([]byte, error) {
	if err := h.call("get", name); err != nil {
		return nil, err
	}
	return h.p.Get(ctx, name)
}

func (h *hooked) Set(ctx context.Context, name string, v []byte) error {
	if err := h.call("set", name); err != nil {
		return err
	}
	return h.p.Set(ctx, name, h.rewrite(name, v))
}

func (h *hooked) Delete(ctx context.Context, name string) error {
	if err := h.call("delete", name); err != nil {
		return err
	}
	return h.p.Delete(ctx, name)
}

func (h *hooked) List(ctx context.Context) ([]store.Entry, error) {
	if err := h.call("list", ""); err != nil {
		return nil, err
	}
	return h.p.List(ctx)
}

func (h *hooked) DeleteMany(ctx context.Context, names []string) error {
	if err := h.call("deletemany", strings.Join(names, ",")); err != nil {
		return err
	}
	return store.DeleteMany(ctx, h.p, names)
}

func (h *hooked) Cleanup(ctx context.Context) error {
	if err := h.call("cleanup", ""); err != nil {
		return err
	}
	return store.Cleanup(ctx, h.p)
}

// Update calls the hook with "update", then runs fn in p's Update with a Tx
// that calls the hook before each of its methods.
func (h hookedU) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := h.call("update", ""); err != nil {
		return err
	}
	return store.Update(ctx, h.p, func(tx store.Tx) error { return fn(hookedTx{h.hooked, tx}) })
}

type hookedTx struct {
	h  *hooked
	tx store.Tx
}

func (t hookedTx) Get(name string) ([]byte, error) {
	if err := t.h.call("tx.get", name); err != nil {
		return nil, err
	}
	return t.tx.Get(name)
}

func (t hookedTx) Lookup(name string) (store.Entry, error) {
	if err := t.h.call("tx.lookup", name); err != nil {
		return store.Entry{}, err
	}
	return t.tx.Lookup(name)
}

func (t hookedTx) Set(name string, v []byte) error {
	if err := t.h.call("tx.set", name); err != nil {
		return err
	}
	return t.tx.Set(name, t.h.rewrite(name, v))
}

func (t hookedTx) SetDescription(name, d string) error {
	if err := t.h.call("tx.describe", name); err != nil {
		return err
	}
	return t.tx.SetDescription(name, d)
}

func (t hookedTx) Delete(name string) error {
	if err := t.h.call("tx.delete", name); err != nil {
		return err
	}
	return t.tx.Delete(name)
}

func (t hookedTx) List() ([]store.Entry, error) {
	if err := t.h.call("tx.list", ""); err != nil {
		return nil, err
	}
	return t.tx.List()
}
