package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
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
// value: a backend that loses data silently. It is built on
// storetest.WrapValues, with store.Updater hidden; faultyU shows it.
type faulty struct {
	p      store.Provider
	mu     sync.Mutex
	calls  int
	failAt int
	mangle string
	once   sync.Once
	w      store.Provider // p wrapped, Updater iff p is
}

// faultyU is faulty with the Updater capability of the wrapped store.
type faultyU struct{ *faulty }

var (
	_ store.Provider = (*faulty)(nil)
	_ store.Updater  = faultyU{}
)

// step counts a call and fails the failAt-th. Tx calls count and fail
// like the Provider call of the same name.
func (f *faulty) step(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls != f.failAt {
		return nil
	}
	if op == "deletemany" {
		name = ""
	}
	return &store.KeyError{Op: strings.TrimPrefix(op, "tx."), Name: name, Err: errInjected}
}

func (f *faulty) value(name string, v []byte) []byte {
	if name == f.mangle {
		return append(append([]byte{}, v...), "-lost"...)
	}
	return v
}

func (f *faulty) wrapped() store.Provider {
	f.once.Do(func() { f.w = storetest.WrapValues(f.p, f.step, f.value) })
	return f.w
}

func (f *faulty) Get(ctx context.Context, name string) ([]byte, error) {
	return f.wrapped().Get(ctx, name)
}

func (f *faulty) Set(ctx context.Context, name string, v []byte) error {
	return f.wrapped().Set(ctx, name, v)
}

func (f *faulty) Delete(ctx context.Context, name string) error {
	return f.wrapped().Delete(ctx, name)
}

func (f *faulty) List(ctx context.Context) ([]store.Entry, error) { return f.wrapped().List(ctx) }

func (f *faulty) DeleteMany(ctx context.Context, names []string) error {
	return store.DeleteMany(ctx, f.wrapped(), names)
}

func (f *faulty) Cleanup(ctx context.Context) error { return store.Cleanup(ctx, f.wrapped()) }

func (f faultyU) Update(ctx context.Context, fn func(store.Tx) error) error {
	return f.wrapped().(store.Updater).Update(ctx, fn)
}
