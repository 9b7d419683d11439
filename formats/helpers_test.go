package formats

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

var ctx = context.Background()

// newStore returns a real file store holding kv.
func newStore(t testing.TB, kv map[string]string) *store.File {
	t.Helper()
	f, _ := storetest.NewFile(t)
	for k, v := range kv {
		if err := f.Set(ctx, k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func mustScoped(t testing.TB, p store.Provider, s string) *scope.View {
	t.Helper()
	v, err := scope.Scoped(p, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fileBytes is a store file as it was. Every write encrypts the store
// afresh under a new file key, so the same bytes later mean nothing was
// written in between.
type fileBytes []byte

func stateOf(t testing.TB, path string) fileBytes {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unchanged fails the test if the store file was written since b.
func (b fileBytes) unchanged(t testing.TB, path string) {
	t.Helper()
	if !bytes.Equal(stateOf(t, path), b) {
		t.Fatalf("store file %s was written", path)
	}
}

var errInjected = errors.New("injected fault")

// failAt wraps p (keeping its store.Updater) so that its k-th call fails
// with errInjected (1-based; 0 never fails), counting Provider methods,
// Update and every Tx method inside an Update; *calls counts them all.
// Calls must come from one goroutine.
func failAt(p store.Provider, k int, calls *int) store.Provider {
	return storetest.Wrap(p, func(op, name string) error {
		*calls++
		if *calls == k {
			return &store.KeyError{Op: op, Name: name, Err: errInjected}
		}
		return nil
	})
}
