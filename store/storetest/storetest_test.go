package storetest_test

import (
	"testing"

	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

func TestMemory(t *testing.T) {
	storetest.TestProvider(t, func(t *testing.T) store.Provider { return store.NewMemory() })
}

func TestFile(t *testing.T) {
	storetest.TestProvider(t, func(t *testing.T) store.Provider { f, _ := storetest.NewFile(t); return f })
}

// TestPlain runs the suite over a provider with none of the optional
// methods (no DeleteMany, Cleanup or Update), so store.DeleteMany and
// store.Cleanup take their one-call-at-a-time fallbacks.
func TestPlain(t *testing.T) {
	storetest.TestProvider(t, func(t *testing.T) store.Provider {
		p := struct{ store.Provider }{store.NewMemory()}
		if _, ok := store.Provider(p).(store.DeleteManyProvider); ok {
			t.Fatal("the plain provider has DeleteMany")
		}
		return p
	})
}

// TestBatchOnly runs the suite over a provider with atomic batches but no
// DeleteMany or Cleanup, so the helpers take their Update fallbacks.
func TestBatchOnly(t *testing.T) {
	storetest.TestProvider(t, func(t *testing.T) store.Provider {
		m := store.NewMemory()
		return struct {
			store.Provider
			store.Updater
		}{m, m}
	})
}
