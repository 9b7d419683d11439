package migrate

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// writeCounter is a store.Updater over a file store that records, for each
// batch that replaced the store file, the phase it left the migration in.
// With hide, its Tx is a plain store.Tx: no read-back (store.ReadBackTx),
// a provider whose batches cannot check what they wrote.
type writeCounter struct {
	*store.File
	t      testing.TB
	sc     scenario
	hide   bool
	phases []string
}

func (w *writeCounter) Update(ctx context.Context, fn func(store.Tx) error) error {
	before := stateOf(w.t, w.Path())
	err := w.File.Update(ctx, func(tx store.Tx) error {
		if w.hide {
			tx = struct{ store.Tx }{tx}
		}
		return fn(tx)
	})
	if now := stateOf(w.t, w.Path()); now.ino != before.ino || string(now.data) != string(before.data) {
		w.phases = append(w.phases, w.sc.phaseOf(w.t, w.File))
	}
	return err
}

// On the file store a migration is one write, with or without clashes,
// and it lands the end state at once; a provider whose batches cannot
// read back keeps two: the copies, then the deletions and the record.
func TestApplyOneWrite(t *testing.T) {
	for _, clashes := range []bool{false, true} {
		for _, hide := range []bool{false, true} {
			sc := newScenario(100, clashes)
			f := newStore(t)
			sc.seed(t, f)
			w := &writeCounter{File: f, t: t, sc: sc, hide: hide}
			rep, err := sc.m.Apply(ctx, w)
			if err != nil && !(clashes && errors.Is(err, ErrClash)) {
				t.Fatalf("clashes %v, hide %v: %v", clashes, hide, err)
			}
			sc.checkFinal(t, f)
			want := []string{"done"}
			if hide {
				want = []string{"copying", "done"}
			}
			if !slices.Equal(w.phases, want) {
				t.Errorf("clashes %v, hide %v: writes left the store %v; want %v", clashes, hide, w.phases, want)
			}
			if len(rep.Moved) == 0 || rep.Recorded == clashes {
				t.Errorf("clashes %v, hide %v: report %+v", clashes, hide, rep)
			}
		}
	}
}

// spoiler is a store.Updater over a file store whose Tx can read back;
// it spoils what a batch writes: with mangle, the value set for that name
// is another (a backend that loses data silently); with corrupt, a byte of
// the pending file is flipped before the read-back reads it.
type spoiler struct {
	*store.File
	mangle  string
	corrupt bool
	flipped int
}

type spoilTx struct {
	store.Tx
	s *spoiler
}

func (s *spoiler) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.File.Update(ctx, func(tx store.Tx) error { return fn(spoilTx{tx, s}) })
}

func (t spoilTx) Set(name string, v []byte) error {
	if name == t.s.mangle {
		v = append(slices.Clone(v), "-lost"...)
	}
	return t.Tx.Set(name, v)
}

func (t spoilTx) ReadBack(check store.ReadBackCheck) bool {
	return store.TxReadBack(t.Tx, func(values func([]string) ([][]byte, error)) error {
		if t.s.corrupt {
			tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(t.s.Path()), "."+filepath.Base(t.s.Path())+".tmp-*"))
			for _, tmp := range tmps {
				b, err := os.ReadFile(tmp)
				if err != nil {
					return err
				}
				b[len(b)-20] ^= 1 // in the last chunk's ciphertext
				if err := os.WriteFile(tmp, b, 0o600); err != nil {
					return err
				}
				t.s.flipped++
			}
		}
		return check(values)
	})
}

// The read-back reads the file about to replace the store: a value that
// differs from the one copied, or a file that does not decrypt, fails the
// migration before the rename, naming the step (and the key when one is
// at fault); the store file is untouched, no temp file is left, and a
// rerun over a sound store completes.
func TestApplyReadBackFails(t *testing.T) {
	sc := newScenario(50, false)
	snap := newSnapshot(t, sc)
	// The victim is a move the migration copies: not one whose new key
	// the scenario already holds (that move writes nothing to mangle).
	var victim Move
	for _, k := range slices.Sorted(maps.Keys(sc.initial)) {
		r, ok := sc.m.match(k)
		if _, present := sc.initial[scope.Key(r.Scope, k)]; ok && !present {
			victim = Move{Old: k, New: scope.Key(r.Scope, k)}
			break
		}
	}
	for _, tc := range []struct {
		name string
		s    spoiler
		ok   func(se *StepError) bool
	}{
		{"mangled value", spoiler{mangle: victim.New}, func(se *StepError) bool {
			return se.Key == victim.Old && errors.Is(se, ErrVerify)
		}},
		{"corrupt file", spoiler{corrupt: true}, func(se *StepError) bool {
			return errors.Is(se, store.ErrDecrypt)
		}},
	} {
		f := snap.fresh(t)
		before := stateOf(t, f.Path())
		s := tc.s
		s.File = f
		rep, err := sc.m.Apply(ctx, &s)
		var se *StepError
		if !errors.As(err, &se) || se.Step != StepVerify || !tc.ok(se) {
			t.Fatalf("%s: Apply = %+v, %v; want a read-back failure", tc.name, rep, err)
		}
		if tc.s.corrupt && s.flipped != 1 {
			t.Fatalf("%s: %d pending files corrupted, want 1", tc.name, s.flipped)
		}
		t.Logf("%s: %v", tc.name, err)
		before.unchanged(t, f.Path())
		if tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(f.Path()), ".*.tmp-*")); len(tmps) != 0 {
			t.Fatalf("%s: temp files left: %v", tc.name, tmps)
		}
		disk := snap.open(t, f.Path())
		sc.checkReadable(t, disk)
		if _, err := sc.m.Apply(ctx, disk); err != nil {
			t.Fatalf("%s: rerun: %v", tc.name, err)
		}
		sc.checkFinal(t, disk)
	}
}
