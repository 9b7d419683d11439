package migrate

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

// The clash of issue 20: a person's BEARER_TOKEN_b next to a different
// __hush_workloads_BEARER_TOKEN_b the program wrote. Values are binary and
// end in a newline, to catch any change of a byte.
const (
	personVal  = "person's\x00\xff token\n"
	programVal = "program's\x00\xfe token\n"
	clashOld   = "BEARER_TOKEN_b"
	clashNew   = "__hush_workloads_BEARER_TOKEN_b"
)

var clashMove = Move{Old: clashOld, New: clashNew, Scope: "workloads", Clash: true}

// clashStore is a store with one clash, one ordinary move and one new key
// that already holds its old key's value.
func clashStore(t *testing.T) *store.File {
	t.Helper()
	f := newStore(t)
	seed(t, f, map[string]string{
		clashOld: personVal, clashNew: programVal,
		"BEARER_TOKEN_a": "a", "OAUTH_r": "same", "__hush_auth_OAUTH_r": "same",
	})
	return f
}

func TestPlanClash(t *testing.T) {
	f := clashStore(t)
	before := stateOf(t, f.Path())
	got, err := workloads.Plan(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	want := []Move{
		{"BEARER_TOKEN_a", "__hush_workloads_BEARER_TOKEN_a", "workloads", false},
		clashMove,
		{"OAUTH_r", "__hush_auth_OAUTH_r", "auth", false},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Plan = %+v\nwant %+v", got, want)
	}
	before.unchanged(t, f.Path())
}

// TestApplyClash: Apply touches neither key of a clash, reports it, does
// the rest, and does not record the migration; a rerun changes nothing.
func TestApplyClash(t *testing.T) {
	f := clashStore(t)
	rep, err := workloads.Apply(ctx, f)
	var se *StepError
	if !errors.Is(err, ErrClash) || !errors.As(err, &se) || se.Key != clashOld || se.Step != StepCopy {
		t.Fatalf("Apply = %v; want a copy StepError naming %s and wrapping ErrClash", err, clashOld)
	}
	if !slices.Equal(rep.Clashes, []Move{clashMove}) || !slices.Equal(rep.Moved, []string{"BEARER_TOKEN_a"}) ||
		!slices.Equal(rep.AlreadyPresent, []string{"OAUTH_r"}) || rep.Recorded || rep.AlreadyDone {
		t.Fatalf("report = %+v", rep)
	}
	wantState := map[string]string{
		clashOld: personVal, clashNew: programVal,
		"__hush_workloads_BEARER_TOKEN_a": "a", "__hush_auth_OAUTH_r": "same",
	}
	if d := diffMaps(storetest.Dump(t, f), wantState); d != "" {
		t.Fatalf("store after Apply (record must be absent):\n%s", d)
	}
	if done, err := workloads.Done(ctx, f); err != nil || done {
		t.Fatalf("Done = %v, %v; want not done", done, err)
	}
	// Each side reads its own value: the person through the user view, the
	// program through its (fallback) scoped view.
	if v, err := scope.User(f).Get(ctx, clashOld); err != nil || string(v) != personVal {
		t.Errorf("user view Get = %q, %v", v, err)
	}
	fb, err := workloads.Fallback(f, "workloads")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := fb.Get(ctx, clashOld); err != nil || string(v) != programVal {
		t.Errorf("fallback Get = %q, %v", v, err)
	}
	// A rerun before anyone resolves it reports the same and writes nothing.
	before := stateOf(t, f.Path())
	rep, err = workloads.Apply(ctx, f)
	if !errors.Is(err, ErrClash) || !slices.Equal(rep.Clashes, []Move{clashMove}) || len(rep.Moved)+len(rep.AlreadyPresent) > 0 || rep.Recorded {
		t.Fatalf("rerun = %+v, %v", rep, err)
	}
	before.unchanged(t, f.Path())
}

// TestApplyClashResolved: once a person keeps one of the two values, a
// rerun completes and records the migration.
func TestApplyClashResolved(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove string // the key the person deletes
		keep   string // the value left under the new key
		moved  []string
	}{
		{"the person's value kept", clashNew, personVal, []string{clashOld}},
		{"the program's value kept", clashOld, programVal, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := clashStore(t)
			if _, err := workloads.Apply(ctx, f); !errors.Is(err, ErrClash) {
				t.Fatalf("first Apply = %v", err)
			}
			if err := f.Delete(ctx, tc.remove); err != nil {
				t.Fatal(err)
			}
			rep, err := workloads.Apply(ctx, f)
			if err != nil || !rep.Recorded || len(rep.Clashes) > 0 || !slices.Equal(rep.Moved, tc.moved) {
				t.Fatalf("rerun = %+v, %v", rep, err)
			}
			got := storetest.Dump(t, f)
			if _, ok := got[clashOld]; ok || got[clashNew] != tc.keep {
				t.Fatalf("after the rerun: %s present %v, %s = %q; want %q", clashOld, ok, clashNew, got[clashNew], tc.keep)
			}
		})
	}
}

// TestApplyClashSameValue: a new key with the old key's exact bytes is no
// clash: the old key is deleted, the migration recorded.
func TestApplyClashSameValue(t *testing.T) {
	f := newStore(t)
	seed(t, f, map[string]string{clashOld: personVal, clashNew: personVal})
	rep, err := workloads.Apply(ctx, f)
	if err != nil || !slices.Equal(rep.AlreadyPresent, []string{clashOld}) || len(rep.Clashes) > 0 || !rep.Recorded {
		t.Fatalf("Apply = %+v, %v", rep, err)
	}
	got := storetest.Dump(t, f)
	if _, ok := got[clashOld]; ok || got[clashNew] != personVal {
		t.Fatalf("store after Apply: %q", got)
	}
}

// TestApplyLateClash: an old key changed, or a new key deleted, between
// the copy and the deletion is never deleted, with and without atomic
// batches. A new key the run wrote that is gone fails its read-back; one
// that was already there (present before the run) fails the deletion.
func TestApplyLateClash(t *testing.T) {
	const oldKey, newKey = "BEARER_TOKEN_a", "__hush_workloads_BEARER_TOKEN_a"
	for _, batched := range []bool{true, false} {
		for _, tc := range []struct {
			name       string
			present    bool // the new key holds the old key's value before the run
			meddle     func(p store.Provider) error
			check      func(err error) bool
			rerunClash bool // a rerun finds a clash (else it completes)
		}{
			{"old key changed", false, func(p store.Provider) error { return p.Set(ctx, oldKey, []byte("changed")) },
				func(err error) bool {
					var se *StepError
					return errors.Is(err, ErrClash) && errors.As(err, &se) && se.Step == StepDelete && se.Key == oldKey
				}, true},
			{"new key deleted", false, func(p store.Provider) error { return p.Delete(ctx, newKey) },
				func(err error) bool {
					var se *StepError
					return errors.Is(err, store.ErrNotFound) && errors.As(err, &se) && se.Step == StepVerify && se.Key == oldKey
				}, false},
			{"new key found present, then deleted", true, func(p store.Provider) error { return p.Delete(ctx, newKey) },
				func(err error) bool {
					var se *StepError
					return errors.Is(err, errNewGone) && errors.As(err, &se) && se.Step == StepDelete && se.Key == oldKey
				}, false},
		} {
			raw := newStore(t)
			in := map[string]string{oldKey: "a", "BEARER_TOKEN_z": "z"}
			if tc.present {
				in[newKey] = "a"
			}
			seed(t, raw, in)
			// The moment between the copy and the deletion: with batches,
			// the end of the first (the copies'); without, the copy's Set
			// of the new key (or, when it is present, the copy's Get of it).
			h := &hooked{Provider: raw, name: newKey, op: "set", nth: 1, hook: func() error { return tc.meddle(raw) }}
			if tc.present {
				h.op = "get"
			}
			var p store.Provider = h
			if batched {
				h.nth, h.afterUpdate = 0, 1
				p = hookedU{h, raw}
			}
			rep, err := workloads.Apply(ctx, p)
			if !tc.check(err) {
				t.Fatalf("batched=%v, %s: Apply = %v", batched, tc.name, err)
			}
			if _, err := raw.Get(ctx, oldKey); err != nil {
				t.Fatalf("batched=%v, %s: old key deleted: %v", batched, tc.name, err)
			}
			if h.seen == 0 && h.updates == 0 {
				t.Fatalf("batched=%v, %s: the hook never ran", batched, tc.name)
			}
			if done, _ := workloads.Done(ctx, raw); done || rep.Recorded {
				t.Fatalf("batched=%v, %s: recorded complete", batched, tc.name)
			}
			rep, err = workloads.Apply(ctx, raw)
			if tc.rerunClash != errors.Is(err, ErrClash) || tc.rerunClash != (len(rep.Clashes) == 1) || tc.rerunClash == rep.Recorded {
				t.Fatalf("batched=%v, %s: rerun = %+v, %v", batched, tc.name, rep, err)
			}
		}
	}
}

// hooked runs hook right after the nth call of op ("get" or "set") on
// name (with hookedU, after its afterUpdate-th Update instead).
type hooked struct {
	store.Provider
	name, op         string
	nth, afterUpdate int
	hook             func() error
	seen, updates    int
}

// after counts a call of op on name and runs the hook after the nth.
func (h *hooked) after(op, name string) error {
	if op == h.op && name == h.name {
		if h.seen++; h.seen == h.nth {
			return h.hook()
		}
	}
	return nil
}

func (h *hooked) Get(ctx context.Context, name string) ([]byte, error) {
	v, err := h.Provider.Get(ctx, name)
	if herr := h.after("get", name); herr != nil {
		return nil, herr
	}
	return v, err
}

func (h *hooked) Set(ctx context.Context, name string, v []byte) error {
	err := h.Provider.Set(ctx, name, v)
	if herr := h.after("set", name); herr != nil {
		return herr
	}
	return err
}

// hookedU is hooked with the file store's atomic batches, whose Tx it
// hides behind a plain store.Tx: without store.ReadBackTx a migration
// takes two batches, and the hook runs between them.
type hookedU struct {
	*hooked
	f store.Updater
}

func (h hookedU) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := h.f.Update(ctx, func(tx store.Tx) error { return fn(struct{ store.Tx }{tx}) }); err != nil {
		return err
	}
	if h.updates++; h.updates == h.afterUpdate {
		return h.hook()
	}
	return nil
}

// TestApplyMixedClashes: a store of many keys, some of them clashing, loses
// no value: every original value is still there under its old or new name,
// the clashing ones under both.
func TestApplyMixedClashes(t *testing.T) {
	sc := newScenario(300, true)
	f := newStore(t)
	sc.seed(t, f)
	rep, err := sc.m.Apply(ctx, f)
	if !errors.Is(err, ErrClash) || len(rep.Clashes) != len(sc.clash) || len(sc.clash) == 0 {
		t.Fatalf("Apply = %v with %d clashes, want ErrClash and %d", err, len(rep.Clashes), len(sc.clash))
	}
	for _, mv := range rep.Clashes {
		if !sc.clash[mv.Old] {
			t.Errorf("%s reported as a clash", mv.Old)
		}
	}
	sc.checkReadable(t, f)
	sc.checkFinal(t, f)
	state := storetest.Dump(t, f)
	lost := 0
	for k, v := range sc.initial {
		r, moves := sc.m.match(k)
		if state[k] != v && (!moves || state[scope.Key(r.Scope, k)] != v) {
			lost++
		}
	}
	if lost != 0 {
		t.Fatalf("%d of %d values lost", lost, len(sc.initial))
	}
	t.Logf("%d keys, %d clashes: 0 values lost", len(sc.initial), len(sc.clash))
}
