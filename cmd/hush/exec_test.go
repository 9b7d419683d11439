package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

// TestExecEnvMemory bounds what hush exec allocates, beyond reading the
// store, to give every secret to the command: the variables once, in one
// buffer of whole 8 KiB pages, as the NAME=value strings the command
// gets, and the slice of the environment. Memory a process touches for
// the first time costs a page fault per 4 KiB, which on a virtual machine
// is most of what `hush exec -- true` on a big store spends beyond hush
// get (issue 18: within 1.3x). A copy of every name and value first (as
// store.All makes), a map of the variables, or a string allocated for
// each variable exceeds it. The store is a file store, as hush's is: its
// decrypted document stays cached, so reading it again (one walk of
// store.Each, measured alone) costs next to nothing.
func TestExecEnvMemory(t *testing.T) {
	ctx := context.Background()
	f, _ := storetest.NewFile(t)
	const n = 1000
	vars := 0
	err := f.Update(ctx, func(tx store.Tx) error {
		for i := range n {
			name, value := fmt.Sprintf("SECRET_%04d", i), fmt.Sprintf("value-%d-%064d", i, i)
			vars += len(name) + 1 + len(value)
			if err := tx.Set(name, []byte(value)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p := scope.User(f)
	env := []string{"PATH=/usr/bin:/bin", "HOME=/home/u", "HUSH_IDENTITY_FILE=/k"}
	a := newApp(strings.NewReader(""), io.Discard, io.Discard, env)

	// the least that several runs of f allocate, in bytes
	allocated := func(f func()) uint64 {
		var least uint64
		for i := range 5 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			f()
			runtime.ReadMemStats(&after)
			if d := after.TotalAlloc - before.TotalAlloc; i == 0 || d < least {
				least = d
			}
		}
		return least
	}
	read := allocated(func() {
		if err := store.Each(ctx, p, func(name, value []byte) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
	var got []string
	all := allocated(func() {
		if got, err = a.execEnvAll(ctx, p, execOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	if len(got) != n+2 || got[0] != env[0] || got[n+1] != "SECRET_0999=value-999-"+fmt.Sprintf("%064d", 999) {
		t.Fatalf("execEnvAll gave %d variables, %q ... %q", len(got), got[0], got[len(got)-1])
	}
	slices := 16 * (n + len(env)) // the environment
	if own, most := all-min(read, all), uint64(vars+8192+slices); own > most {
		t.Errorf("execEnvAll allocates %d bytes beyond reading %d secrets (%d), want at most %d (%d bytes of variables, 8 KiB of rounding, %d of slices)",
			own, n, read, most, vars, slices)
	}
}

// unlisted is a memory store whose List, Get, GetMany and All fail: only
// its Each can read it.
type unlisted struct{ *store.Memory }

func (unlisted) List(context.Context) ([]store.Entry, error) {
	return nil, fmt.Errorf("listed")
}

func (unlisted) Get(context.Context, string) ([]byte, error) { return nil, fmt.Errorf("read one") }

func (unlisted) GetMany(context.Context, []string) ([][]byte, error) {
	return nil, fmt.Errorf("read many")
}

func (unlisted) All(context.Context) ([]string, [][]byte, error) {
	return nil, nil, fmt.Errorf("read all")
}

// TestExecEnvAll: hush exec reads every secret as the provider lends them
// (store.Each), through the view, not with a listing and GetMany (issue
// 18: the listing's metadata costs pages) nor with store.All (a copy of
// every name and value).
func TestExecEnvAll(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	for _, n := range []string{"A", "B", "__hush_x_C"} {
		if err := m.Set(ctx, n, []byte("value-"+n)); err != nil {
			t.Fatal(err)
		}
	}
	a := newApp(strings.NewReader(""), io.Discard, io.Discard, []string{"PATH=/bin"})
	got, err := a.execEnvAll(ctx, scope.User(unlisted{m}), execOptions{})
	if err != nil {
		t.Fatalf("execEnvAll over a provider with Each: %v", err)
	}
	if want := []string{"PATH=/bin", "A=value-A", "B=value-B"}; !slices.Equal(got, want) {
		t.Fatalf("execEnvAll = %q, want %q", got, want)
	}
}
