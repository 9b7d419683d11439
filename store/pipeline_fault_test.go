package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/internal/atomicfile/atomicfiletest"
	"github.com/hush-secrets/hush/store"
)

// A write of a big store (through the pipeline: store/pipeline.go) whose
// temp file fails in the middle, after some of it was written, returns
// that failure (an *atomicfile.Error for the write step), removes the
// temp file, leaves the store byte-identical and readable, and leaves no
// goroutine of the pipeline running.
func TestPipelineWriteFault(t *testing.T) {
	ctx := context.Background()
	f, ident := newStore(t)
	err := f.Update(ctx, func(tx store.Tx) error {
		for i := range 40000 {
			if err := tx.Set(fmt.Sprintf("SECRET_%06d", i), fmt.Appendf(nil, "value-%032d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	injected := errors.New("injected fault")
	var writes atomic.Int32
	armed := atomic.Bool{}
	atomicfiletest.Inject(t, func(target string, s atomicfile.Step) error {
		if armed.Load() && target == f.Path() && s == atomicfile.StepWrite && writes.Add(1) == 5 {
			return injected
		}
		return nil
	})
	goroutines := runtime.NumGoroutine()
	w := openAs(t, f.Path(), ident)
	armed.Store(true)
	err = w.Set(ctx, "SECRET_000100", []byte("new-secret-value"))
	armed.Store(false)
	var ae *atomicfile.Error
	if !errors.As(err, &ae) || ae.Step != atomicfile.StepWrite || !errors.Is(err, injected) {
		t.Fatalf("err = %v, want the injected *atomicfile.Error for the write step", err)
	}
	if n := writes.Load(); n < 5 {
		t.Fatalf("the fault came at write %d, not in the middle of the file", n)
	}
	if s := strays(t, f.Path()); len(s) > 0 {
		t.Fatalf("temp files left: %v", s)
	}
	after, err := os.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("the store changed after a failed write")
	}
	if v, err := openAs(t, f.Path(), ident).Get(ctx, "SECRET_000100"); err != nil || string(v) != fmt.Sprintf("value-%032d", 100) {
		t.Fatalf("Get after the failed write = %q, %v", v, err)
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > goroutines; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines running after the failed write, %d before", runtime.NumGoroutine(), goroutines)
		}
		time.Sleep(time.Millisecond)
	}
}
