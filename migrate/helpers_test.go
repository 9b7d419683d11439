package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"syscall"
	"testing"

	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

var ctx = context.Background()

// newStore returns a real, empty file store.
func newStore(t testing.TB) *store.File {
	t.Helper()
	f, _ := storetest.NewFile(t)
	return f
}

// seed writes names and values in one atomic change.
func seed(t testing.TB, p store.Provider, kv map[string]string) {
	t.Helper()
	err := store.Update(ctx, p, func(tx store.Tx) error {
		for k, v := range kv {
			if err := tx.Set(k, []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dump returns every key and value of p.
func dump(t testing.TB, p store.Provider) map[string]string {
	t.Helper()
	es, err := p.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]string, len(es))
	for _, e := range es {
		v, err := p.Get(ctx, e.Name)
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name] = string(v)
	}
	return m
}

// diffMaps describes how got differs from want, or returns "".
func diffMaps(got, want map[string]string) string {
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			fmt.Fprintf(&b, "  missing %s (want %q)\n", k, w)
		case !wok:
			fmt.Fprintf(&b, "  extra %s = %q\n", k, g)
		case g != w:
			fmt.Fprintf(&b, "  %s = %q, want %q\n", k, g, w)
		}
	}
	return b.String()
}

// fileState identifies the store file's current version: a replaced file
// has a new inode or new bytes.
type fileState struct {
	ino  uint64
	data []byte
}

func stateOf(t testing.TB, path string) fileState {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileState{ino: fi.Sys().(*syscall.Stat_t).Ino, data: data}
}

// unchanged fails the test if the store file was replaced since s.
func (s fileState) unchanged(t testing.TB, path string) {
	t.Helper()
	now := stateOf(t, path)
	if now.ino != s.ino || !bytes.Equal(now.data, s.data) {
		t.Fatalf("store file was replaced (inode %d -> %d, bytes equal: %v)", s.ino, now.ino, bytes.Equal(now.data, s.data))
	}
}

var errInjected = errors.New("injected fault")

// faulty wraps a Provider and fails its failAt-th call (1-based; 0 never
// fails), counting Provider methods, Update, and every Tx method inside an
// Update. When mangle names a key, writes of that key store a different
// value: a backend that loses data silently.
type faulty struct {
	p      store.Provider
	mu     sync.Mutex
	calls  int
	failAt int
	mangle string
}

// faultyU is faulty with the Updater capability of the wrapped store.
type faultyU struct{ *faulty }

var (
	_ store.Provider = (*faulty)(nil)
	_ store.Updater  = faultyU{}
)

func (f *faulty) step(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls == f.failAt {
		return &store.KeyError{Op: op, Name: name, Err: errInjected}
	}
	return nil
}

func (f *faulty) value(name string, v []byte) []byte {
	if name == f.mangle {
		return append(append([]byte{}, v...), "-lost"...)
	}
	return v
}

func (f *faulty) Get(ctx context.Context, name string) ([]byte, error) {
	if err := f.step("get", name); err != nil {
		return nil, err
	}
	return f.p.Get(ctx, name)
}

func (f *faulty) Set(ctx context.Context, name string, v []byte) error {
	if err := f.step("set", name); err != nil {
		return err
	}
	return f.p.Set(ctx, name, f.value(name, v))
}

func (f *faulty) Delete(ctx context.Context, name string) error {
	if err := f.step("delete", name); err != nil {
		return err
	}
	return f.p.Delete(ctx, name)
}

func (f *faulty) List(ctx context.Context) ([]store.Entry, error) {
	if err := f.step("list", ""); err != nil {
		return nil, err
	}
	return f.p.List(ctx)
}

func (f *faulty) DeleteMany(ctx context.Context, names []string) error {
	if err := f.step("deletemany", ""); err != nil {
		return err
	}
	return f.p.DeleteMany(ctx, names)
}

func (f *faulty) Cleanup(ctx context.Context) error {
	if err := f.step("cleanup", ""); err != nil {
		return err
	}
	return f.p.Cleanup(ctx)
}

func (f faultyU) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := f.step("update", ""); err != nil {
		return err
	}
	return store.Update(ctx, f.p, func(tx store.Tx) error { return fn(faultyTx{tx, f.faulty}) })
}

type faultyTx struct {
	tx store.Tx
	f  *faulty
}

func (t faultyTx) Get(name string) ([]byte, error) {
	if err := t.f.step("get", name); err != nil {
		return nil, err
	}
	return t.tx.Get(name)
}

func (t faultyTx) Lookup(name string) (store.Entry, error) {
	if err := t.f.step("lookup", name); err != nil {
		return store.Entry{}, err
	}
	return t.tx.Lookup(name)
}

func (t faultyTx) Set(name string, v []byte) error {
	if err := t.f.step("set", name); err != nil {
		return err
	}
	return t.tx.Set(name, t.f.value(name, v))
}

func (t faultyTx) SetDescription(name, d string) error {
	if err := t.f.step("describe", name); err != nil {
		return err
	}
	return t.tx.SetDescription(name, d)
}

func (t faultyTx) Delete(name string) error {
	if err := t.f.step("delete", name); err != nil {
		return err
	}
	return t.tx.Delete(name)
}

func (t faultyTx) List() ([]store.Entry, error) {
	if err := t.f.step("list", ""); err != nil {
		return nil, err
	}
	return t.tx.List()
}
