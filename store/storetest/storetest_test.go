package storetest_test

import (
	"context"
	"maps"
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
// methods (no GetMany, DeleteMany, Cleanup or Update), so store.GetMany,
// store.DeleteMany and store.Cleanup take their one-call-at-a-time
// fallbacks.
func TestPlain(t *testing.T) {
	storetest.TestProvider(t, func(t *testing.T) store.Provider {
		p := struct{ store.Provider }{store.NewMemory()}
		if _, ok := store.Provider(p).(store.DeleteManyProvider); ok {
			t.Fatal("the plain provider has DeleteMany")
		}
		if _, ok := store.Provider(p).(store.GetManyProvider); ok {
			t.Fatal("the plain provider has GetMany")
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

// TestContents: Contents and Dump return every name with its value
// (reserved keys included), and Contents the description too.
func TestContents(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	err := store.Update(ctx, m, func(tx store.Tx) error {
		if err := tx.Set("A", []byte("1")); err != nil {
			return err
		}
		if err := tx.Set("__hush_app_B", []byte("\x00\xff")); err != nil {
			return err
		}
		return tx.SetDescription("A", "first")
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "__hush_app_B": "\x00\xff"}
	if got := storetest.Dump(t, m); !maps.Equal(got, want) {
		t.Errorf("Dump = %q; want %q", got, want)
	}
	c := storetest.Contents(t, m)
	if len(c) != 2 || c["A"].Value != "1" || c["A"].Description != "first" || c["A"].Created.IsZero() {
		t.Errorf("Contents = %+v", c)
	}
}
