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
