package migrate

import (
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/hush-secrets/hush/store"
)

// TestFaultEveryCall fails the k-th call a 50-key migration makes, for
// every k, and checks after each failure that every secret is readable
// with its original value (by its old name or through the fallback), that
// no pre-existing new key was overwritten, that a rerun completes, that
// the end state is the expected one, and that a third run writes nothing.
// It also checks that the fault was reported, as a *StepError, and that
// Apply stopped there (a failed read-back excepted: see Apply). It runs
// without and with clashes (new keys already holding another value, which
// must survive next to their old keys, the migration never recorded).
//
// "batched" runs over the file store's atomic batches (calls counted:
// Provider methods, Update, and every Tx call inside it); "unbatched"
// hides them, so every read and write is a separate, non-atomic call and a
// failure can land between any two of them. The unbatched sweep rewrites
// the store up to a hundred times per k (so its clash variant is smaller).
func TestFaultEveryCall(t *testing.T) {
	for _, tc := range []struct {
		batched, clashes bool
		keys             int
	}{{true, false, 50}, {true, true, 50}, {false, false, 50}, {false, true, 25}} {
		batched, sc := tc.batched, newScenario(tc.keys, tc.clashes)
		snap := newSnapshot(t, sc)
		name := map[bool]string{true: "batched", false: "unbatched"}[batched] + map[bool]string{true: "-clashes"}[tc.clashes]
		// Apply's error once it ran to its end: the clashes, if any.
		finished := func(err error) bool { return err == nil || tc.clashes && errors.Is(err, ErrClash) }
		t.Run(name, func(t *testing.T) {
			wrap := func(p store.Provider, failAt int) (*faulty, store.Provider) {
				f := &faulty{p: p, failAt: failAt}
				if batched {
					return f, faultyU{f}
				}
				return f, f
			}
			// A clean run counts the calls.
			counter, p := wrap(snap.fresh(t), 0)
			if _, err := sc.m.Apply(ctx, p); !finished(err) {
				t.Fatal(err)
			}
			total := counter.calls
			// Under the race detector the unbatched sweep, which rewrites the
			// store up to a hundred times per k, takes every 4th k from a
			// random offset (all k with HUSH_LONG=1, or without -race).
			stride, first := 1, 1
			if !batched && raceEnabled && os.Getenv("HUSH_LONG") == "" {
				stride, first = 4, 1+rand.IntN(4)
				t.Logf("race detector on: every %dth k from %d (HUSH_LONG=1 for all)", stride, first)
			}
			ran := 0
			for k := first; k <= total; k += stride {
				raw := snap.fresh(t)
				f, p := wrap(raw, k)
				_, err := sc.m.Apply(ctx, p)
				if !errors.Is(err, errInjected) {
					t.Fatalf("k=%d: Apply = %v; the injected fault was not reported", k, err)
				}
				var se *StepError
				if !errors.As(err, &se) || se.Step == "" {
					t.Fatalf("k=%d: error %v is not a *StepError", k, err)
				}
				// Only a failed read-back lets Apply finish the other
				// moves (without recording completion).
				if f.calls != k && se.Step != StepVerify {
					t.Fatalf("k=%d: Apply went on for %d calls after a %s fault", k, f.calls-k, se.Step)
				}
				// What is on disk, not a cache, must hold: reopen.
				disk := snap.open(t, raw.Path())
				sc.checkReadable(t, disk)
				if _, err := sc.m.Apply(ctx, disk); !finished(err) {
					t.Fatalf("k=%d: rerun: %v", k, err)
				}
				sc.checkFinal(t, disk)
				before := stateOf(t, raw.Path())
				rep, err := sc.m.Apply(ctx, disk)
				if !finished(err) || rep.AlreadyDone == tc.clashes || len(rep.Clashes) != len(sc.clash) {
					t.Fatalf("k=%d: third run = %+v, %v", k, rep, err)
				}
				before.unchanged(t, raw.Path())
				os.Remove(raw.Path())
				ran++
			}
			t.Logf("%d calls in a clean run; injected a fault at %d of them", total, ran)
		})
	}
}
