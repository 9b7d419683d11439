package scope_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/hush-secrets/hush/scope"
)

// TestConcurrentViews: a user view and two scoped views share one file
// store and one View value each across goroutines (as a daemon and its API
// handlers would). Scope a keeps wiping itself while the others write; at
// the end every write of the others is there and scope a is empty.
func TestConcurrentViews(t *testing.T) {
	f := newFile(t)
	u, a, b := scope.User(f), mustScoped(t, f, "a"), mustScoped(t, f, "b")
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 3*n+1)
	for i := range n {
		wg.Add(3)
		go func() { defer wg.Done(); errs <- u.Set(ctx, fmt.Sprintf("k%d", i), []byte("u")) }()
		go func() { defer wg.Done(); errs <- b.Set(ctx, fmt.Sprintf("k%d", i), []byte("b")) }()
		go func() {
			defer wg.Done()
			if err := a.Set(ctx, fmt.Sprintf("k%d", i), []byte("a")); err != nil {
				errs <- err
				return
			}
			errs <- a.Cleanup(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("k%d", i))
	}
	if got := list(t, u); !slices.Equal(got, want) {
		t.Fatalf("user lists %v, want %v", got, want)
	}
	if got := list(t, b); !slices.Equal(got, want) {
		t.Fatalf("b lists %v, want %v", got, want)
	}
	if got := list(t, a); len(got) != 0 {
		t.Fatalf("a lists %v after its last Cleanup", got)
	}
	for _, k := range want {
		wantValue(t, u, k, "u")
		wantValue(t, b, k, "b")
	}
}
