// Package atomicfiletest fails the steps of atomicfile's writes, for
// tests: the one way to inject a fault into the write path of the store,
// `hush get -o` or the merge driver. Only a test binary can use it.
package atomicfiletest

import (
	"testing"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/internal/atomicfile/internal/fault"
)

// Inject makes fn run before each step of every atomicfile write in the
// process (before each Write call for StepWrite) until tb's test ends. A
// non-nil return fails that step as if its system call had: the write
// returns an *atomicfile.Error for the step, wrapping fn's error.
//
// The hook is process-wide: fn sees every write, so it should match on
// target, and a test using Inject must not call t.Parallel. Inject panics
// outside a test binary or when a hook is already installed.
func Inject(tb testing.TB, fn func(target string, s atomicfile.Step) error) {
	tb.Helper()
	if !testing.Testing() {
		panic("atomicfiletest: Inject outside a test")
	}
	if old := fault.Set(func(target, step string) error { return fn(target, atomicfile.Step(step)) }); old != nil {
		fault.Set(old)
		panic("atomicfiletest: a hook is already installed")
	}
	tb.Cleanup(func() { fault.Set(nil) })
}
