package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

var workloads = Migration{Name: "workloads-v1", Rules: []Rule{{"BEARER_TOKEN_", "workloads"}, {"OAUTH_", "auth"}}}

func TestApply(t *testing.T) {
	type want struct {
		state                   map[string]string // the whole store afterwards, record key excluded
		moved, present, skipped []string
	}
	for _, tc := range []struct {
		name string
		in   map[string]string
		want want
	}{
		{
			name: "moves keep the whole old name",
			in:   map[string]string{"BEARER_TOKEN_x": "tok", "OAUTH_r": "ref"},
			want: want{
				state: map[string]string{"__hush_workloads_BEARER_TOKEN_x": "tok", "__hush_auth_OAUTH_r": "ref"},
				moved: []string{"BEARER_TOKEN_x", "OAUTH_r"},
			},
		},
		{
			name: "an existing new key with the same value: the old key is deleted",
			in:   map[string]string{"OAUTH_r": "same", "__hush_auth_OAUTH_r": "same"},
			want: want{
				state:   map[string]string{"__hush_auth_OAUTH_r": "same"},
				present: []string{"OAUTH_r"},
			},
		},
		{
			name: "user keys matching no rule and reserved keys are untouched",
			in: map[string]string{"USER": "u", "bearer_token_x": "lower", "XOAUTH_": "x",
				"__hush_other_OAUTH_z": "r", "__hush_workloads_SELF": "s"},
			want: want{state: map[string]string{"USER": "u", "bearer_token_x": "lower", "XOAUTH_": "x",
				"__hush_other_OAUTH_z": "r", "__hush_workloads_SELF": "s"}},
		},
		{
			name: "any bytes move exactly",
			in:   map[string]string{"OAUTH_nul": "a\x00b", "OAUTH_bin": "\xff\xfe\n", "OAUTH_empty": "", "OAUTH_nl": "line\n"},
			want: want{
				state: map[string]string{"__hush_auth_OAUTH_nul": "a\x00b", "__hush_auth_OAUTH_bin": "\xff\xfe\n",
					"__hush_auth_OAUTH_empty": "", "__hush_auth_OAUTH_nl": "line\n"},
				moved: []string{"OAUTH_bin", "OAUTH_empty", "OAUTH_nl", "OAUTH_nul"},
			},
		},
		{
			name: "nothing to move still records completion",
			in:   map[string]string{"USER": "u"},
			want: want{state: map[string]string{"USER": "u"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStore(t)
			seed(t, f, tc.in)
			rep, err := workloads.Apply(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Recorded || rep.AlreadyDone || rep.Name != "workloads-v1" {
				t.Errorf("report = %+v, want recorded on the first run", rep)
			}
			if !slices.Equal(rep.Moved, tc.want.moved) || !slices.Equal(rep.AlreadyPresent, tc.want.present) || !slices.Equal(rep.Skipped, tc.want.skipped) {
				t.Errorf("report moved %v present %v skipped %v; want %v %v %v",
					rep.Moved, rep.AlreadyPresent, rep.Skipped, tc.want.moved, tc.want.present, tc.want.skipped)
			}
			got := storetest.Dump(t, f)
			rec, ok := got["__hush_migrate_workloads-v1"]
			if !ok {
				t.Fatalf("no completion record in %v", got)
			}
			var rv recordValue
			if err := json.Unmarshal([]byte(rec), &rv); err != nil || rv.Completed.IsZero() || len(rv.Rules) != 2 {
				t.Errorf("record value %q: %v", rec, err)
			}
			delete(got, "__hush_migrate_workloads-v1")
			if d := diffMaps(got, tc.want.state); d != "" {
				t.Errorf("store after Apply:\n%s", d)
			}

			// A second run reads the record and writes nothing at all.
			before := stateOf(t, f.Path())
			rep, err = workloads.Apply(ctx, f)
			if err != nil || !rep.AlreadyDone || rep.Recorded || len(rep.Moved)+len(rep.AlreadyPresent)+len(rep.Skipped) > 0 {
				t.Fatalf("second Apply = %+v, %v; want AlreadyDone and nothing else", rep, err)
			}
			before.unchanged(t, f.Path())
		})
	}
}

func TestApplyRunOnce(t *testing.T) {
	f := newStore(t)
	seed(t, f, map[string]string{"BEARER_TOKEN_a": "1"})
	if done, err := workloads.Done(ctx, f); err != nil || done {
		t.Fatalf("Done before Apply = %v, %v", done, err)
	}
	if _, err := workloads.Apply(ctx, f); err != nil {
		t.Fatal(err)
	}
	if done, err := workloads.Done(ctx, f); err != nil || !done {
		t.Fatalf("Done after Apply = %v, %v", done, err)
	}
	// The record lives in the reserved scope "migrate", inside the store.
	recs, err := mustScoped(t, f, RecordScope).List(ctx)
	if err != nil || len(recs) != 1 || recs[0].Name != "workloads-v1" {
		t.Fatalf("records in scope migrate = %v, %v", recs, err)
	}
	// A user key created after completion that matches a rule is the
	// user's: a rerun does not move it, and the fallback does not read it.
	seed(t, f, map[string]string{"BEARER_TOKEN_b": "user's"})
	before := stateOf(t, f.Path())
	if rep, err := workloads.Apply(ctx, f); err != nil || !rep.AlreadyDone {
		t.Fatalf("rerun = %+v, %v", rep, err)
	}
	before.unchanged(t, f.Path())
	fb, err := workloads.Fallback(f, "workloads")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fb.Get(ctx, "BEARER_TOKEN_b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("fallback after completion read a user's bare key: %v", err)
	}
	// Another migration (another name) is recorded separately.
	other := Migration{Name: "other", Rules: workloads.Rules}
	if rep, err := other.Apply(ctx, f); err != nil || rep.AlreadyDone || !slices.Equal(rep.Moved, []string{"BEARER_TOKEN_b"}) {
		t.Fatalf("another migration = %+v, %v", rep, err)
	}
}

func mustScoped(t *testing.T, p store.Provider, s string) *scope.View {
	t.Helper()
	v, err := scope.Scoped(p, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFallback(t *testing.T) {
	f := newStore(t)
	seed(t, f, map[string]string{"BEARER_TOKEN_a": "a", "OAUTH_r": "r", "USER": "u", "__hush_workloads_BEARER_TOKEN_n": "new"})
	fb, err := workloads.Fallback(f, "workloads")
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) (string, error) {
		v, err := fb.Get(ctx, name)
		return string(v), err
	}
	// Before the migration: names the rules move into this scope fall back.
	if v, err := get("BEARER_TOKEN_a"); err != nil || v != "a" {
		t.Errorf("fallback Get before migration = %q, %v", v, err)
	}
	if v, err := get("BEARER_TOKEN_n"); err != nil || v != "new" {
		t.Errorf("scoped key = %q, %v", v, err)
	}
	for _, name := range []string{"OAUTH_r" /* another scope's */, "USER" /* no rule */, "BEARER_TOKEN_missing"} {
		if _, err := get(name); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%s) through the workloads fallback = %v, want not found", name, err)
		}
	}
	if _, err := workloads.Apply(ctx, f); err != nil {
		t.Fatal(err)
	}
	if v, err := get("BEARER_TOKEN_a"); err != nil || v != "a" {
		t.Errorf("Get after migration = %q, %v", v, err)
	}
	if _, err := workloads.Fallback(f, "Bad"); err == nil {
		t.Error("Fallback with an invalid scope succeeded")
	}
}

// TestDoneError: an unreadable record is an error, never "not done" (which
// would re-enable the fallback to bare keys) and never "done".
func TestDoneError(t *testing.T) {
	f := &faulty{p: newStore(t), failAt: 1}
	done, err := workloads.Done(ctx, f)
	if !errors.Is(err, errInjected) || done {
		t.Fatalf("Done with a failing store = %v, %v", done, err)
	}
	f = &faulty{p: newStore(t), failAt: 1}
	if _, err := workloads.Apply(ctx, f); !errors.Is(err, errInjected) {
		t.Fatalf("Apply with a failing record read = %v", err)
	}
}

// TestApplyVerify: a provider that silently stores a different value is
// caught by the read-back, and the old key, the only good copy, is kept.
func TestApplyVerify(t *testing.T) {
	for _, batched := range []bool{true, false} {
		raw := newStore(t)
		seed(t, raw, map[string]string{"BEARER_TOKEN_bad": "precious", "BEARER_TOKEN_ok": "fine"})
		fp := &faulty{p: raw, mangle: "__hush_workloads_BEARER_TOKEN_bad"}
		var p store.Provider = fp
		if batched {
			p = faultyU{fp}
		}
		rep, err := workloads.Apply(ctx, p)
		var se *StepError
		if !errors.Is(err, ErrVerify) || !errors.As(err, &se) || se.Step != StepVerify || se.Key != "BEARER_TOKEN_bad" {
			t.Fatalf("batched=%v: Apply = %v; want a verify StepError naming BEARER_TOKEN_bad", batched, err)
		}
		if v, err := raw.Get(ctx, "BEARER_TOKEN_bad"); err != nil || string(v) != "precious" {
			t.Fatalf("batched=%v: old key after a failed verify = %q, %v", batched, v, err)
		}
		if rep.Recorded || !slices.Equal(rep.Moved, []string{"BEARER_TOKEN_ok"}) {
			t.Errorf("batched=%v: report %+v; want the good key moved and nothing recorded", batched, rep)
		}
		if done, _ := workloads.Done(ctx, raw); done {
			t.Errorf("batched=%v: migration recorded complete after a failed verify", batched)
		}
	}
}

// TestApplyStepErrors: each step's failure names the key and the step.
func TestApplyStepErrors(t *testing.T) {
	in := map[string]string{"BEARER_TOKEN_a": "1", "BEARER_TOKEN_b": "2"}
	for _, tc := range []struct {
		op, key  string // the failing call
		step     string
		errorKey string
	}{
		{"list", "", StepPlan, ""},
		{"set", "__hush_workloads_BEARER_TOKEN_b", StepCopy, "BEARER_TOKEN_b"},
		{"get", "BEARER_TOKEN_b", StepCopy, "BEARER_TOKEN_b"},
		{"delete", "BEARER_TOKEN_a", StepDelete, "BEARER_TOKEN_a"},
		{"set", "__hush_migrate_workloads-v1", StepRecord, ""},
	} {
		raw := newStore(t)
		seed(t, raw, in)
		p := &opFault{p: raw, op: tc.op, key: tc.key}
		_, err := workloads.Apply(ctx, p)
		var se *StepError
		if !errors.As(err, &se) || se.Step != tc.step || se.Key != tc.errorKey || !errors.Is(err, errInjected) {
			t.Errorf("failing %s %s: error %v; want step %s key %q", tc.op, tc.key, err, tc.step, tc.errorKey)
		}
	}
	// The verify step reads the new key back through the provider.
	raw := newStore(t)
	seed(t, raw, in)
	// The first Get of the new key is the copy's check, the second the read-back.
	_, err := workloads.Apply(ctx, &opFault{p: raw, op: "get", key: "__hush_workloads_BEARER_TOKEN_a", nth: 2})
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepVerify || se.Key != "BEARER_TOKEN_a" {
		t.Errorf("failing the read-back: %v", err)
	}
}

// opFault fails the nth call (0: every call) of op on key. It has no
// atomic batches, so every step of a migration is a separate call.
type opFault struct {
	p       store.Provider
	op, key string
	nth     int
	seen    int
}

func (o *opFault) check(op, key string, _ bool) error {
	if op == o.op && key == o.key {
		o.seen++
		if o.nth == 0 || o.seen == o.nth {
			return &store.KeyError{Op: op, Name: key, Err: errInjected}
		}
	}
	return nil
}

func (o *opFault) Get(c context.Context, n string) ([]byte, error) {
	if err := o.check("get", n, true); err != nil {
		return nil, err
	}
	return o.p.Get(c, n)
}
func (o *opFault) Set(c context.Context, n string, v []byte) error {
	if err := o.check("set", n, true); err != nil {
		return err
	}
	return o.p.Set(c, n, v)
}
func (o *opFault) Delete(c context.Context, n string) error {
	if err := o.check("delete", n, true); err != nil {
		return err
	}
	return o.p.Delete(c, n)
}
func (o *opFault) List(c context.Context) ([]store.Entry, error) {
	if err := o.check("list", "", true); err != nil {
		return nil, err
	}
	return o.p.List(c)
}
func (o *opFault) DeleteMany(c context.Context, n []string) error { return store.DeleteMany(c, o.p, n) }
func (o *opFault) Cleanup(c context.Context) error                { return store.Cleanup(c, o.p) }

// TestApplyVerifyOldGone: a new key is read back even when its old key
// was deleted meanwhile (by another process applying the migration): a
// move is reported moved only once its new key read back right.
func TestApplyVerifyOldGone(t *testing.T) {
	const oldKey = "BEARER_TOKEN_bad"
	for _, batched := range []bool{true, false} {
		raw := newStore(t)
		seed(t, raw, map[string]string{oldKey: "precious", "BEARER_TOKEN_ok": "fine"})
		fp := &faulty{p: raw, mangle: "__hush_workloads_" + oldKey}
		h := &hooked{Provider: fp, name: "__hush_workloads_" + oldKey, op: "set", nth: 1,
			hook: func() error { return raw.Delete(ctx, oldKey) }}
		var p store.Provider = h
		if batched {
			h.nth, h.afterUpdate = 0, 1
			p = hookedU{h, faultyU{fp}}
		}
		rep, err := workloads.Apply(ctx, p)
		if !errors.Is(err, ErrVerify) || slices.Contains(rep.Moved, oldKey) || rep.Recorded {
			t.Fatalf("batched=%v: Apply = %+v, %v; want a verify failure for %s", batched, rep, err, oldKey)
		}
	}
}
