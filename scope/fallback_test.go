package scope_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// migration is a controllable "migration done?" check that counts calls.
type migration struct {
	done  atomic.Bool
	err   error
	calls atomic.Int32
}

func (m *migration) check(context.Context) (bool, error) {
	m.calls.Add(1)
	return m.done.Load(), m.err
}

// tokens is a legacy rule: bare names starting with TOKEN_ move into the
// scope.
func tokens(name string) bool { return strings.HasPrefix(name, "TOKEN_") }

// fallbackFixture is a real file store behind a recorder, with a bare
// legacy key, and a scoped view of "a" with the fallback attached.
func fallbackFixture(t *testing.T) (*store.File, *recorder, *migration, *scope.View) {
	t.Helper()
	f := newFile(t)
	set(t, f, "TOKEN_x", "bare")
	set(t, f, "OTHER", "bare-other")
	r := record(f)
	m := &migration{}
	return f, r, m, mustScoped(t, r, "a").WithFallback(tokens, m.check)
}

func TestFallbackScopedPresentNoBareRead(t *testing.T) {
	f, r, m, a := fallbackFixture(t)
	set(t, f, "__hush_a_TOKEN_x", "scoped")
	r.reset()
	wantValue(t, a, "TOKEN_x", "scoped")
	if r.called("get", "TOKEN_x") {
		t.Fatalf("the bare key was read although the scoped key exists: %v", r.calls())
	}
	if m.calls.Load() != 0 {
		t.Fatalf("done was checked %d times although the scoped key exists", m.calls.Load())
	}
}

func TestFallbackReadsBareDuringMigration(t *testing.T) {
	_, r, _, a := fallbackFixture(t)
	wantValue(t, a, "TOKEN_x", "bare")
	if !r.called("get", "__hush_a_TOKEN_x") || !r.called("get", "TOKEN_x") {
		t.Fatalf("calls %v, want the scoped read then the bare one", r.calls())
	}
	// Both absent: not found, naming the caller's key.
	_, err := a.Get(ctx, "TOKEN_nope")
	wantKeyError(t, err, "get", "TOKEN_nope", store.ErrNotFound)
	noPrefix(t, err, "a")
}

func TestFallbackOnlyLegacyNames(t *testing.T) {
	_, r, m, a := fallbackFixture(t)
	_, err := a.Get(ctx, "OTHER")
	wantKeyError(t, err, "get", "OTHER", store.ErrNotFound)
	noPrefix(t, err, "a")
	if r.called("get", "OTHER") {
		t.Fatalf("the bare key of a non-legacy name was read: %v", r.calls())
	}
	if m.calls.Load() != 0 {
		t.Fatal("done was checked for a name the rules do not move")
	}
}

func TestFallbackStopsWhenDone(t *testing.T) {
	_, r, m, a := fallbackFixture(t)
	m.done.Store(true)
	_, err := a.Get(ctx, "TOKEN_x")
	wantKeyError(t, err, "get", "TOKEN_x", store.ErrNotFound)
	noPrefix(t, err, "a")
	if r.called("get", "TOKEN_x") {
		t.Fatalf("the bare key was read after the migration was done: %v", r.calls())
	}
}

func TestFallbackBareReadError(t *testing.T) {
	_, r, _, a := fallbackFixture(t)
	eio := &store.KeyError{Op: "get", Name: "TOKEN_x", Err: &fs.PathError{Op: "read", Path: "store.age", Err: syscall.EIO}}
	r.fail[call{"get", "TOKEN_x"}] = eio
	_, err := a.Get(ctx, "TOKEN_x")
	if errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed bare read was reported as not found: %v", err)
	}
	wantKeyError(t, err, "get", "TOKEN_x", syscall.EIO)
}

func TestFallbackScopedReadError(t *testing.T) {
	_, r, m, a := fallbackFixture(t)
	r.fail[call{"get", "__hush_a_TOKEN_x"}] = &store.KeyError{Op: "get", Name: "__hush_a_TOKEN_x",
		Err: &store.DecryptError{Reason: errors.New("no identity matched")}}
	_, err := a.Get(ctx, "TOKEN_x")
	wantKeyError(t, err, "get", "TOKEN_x", store.ErrDecrypt)
	noPrefix(t, err, "a")
	if r.called("get", "TOKEN_x") || m.calls.Load() != 0 {
		t.Fatalf("a failed scoped read fell back anyway: calls %v, done checked %d times", r.calls(), m.calls.Load())
	}
}

func TestFallbackDoneError(t *testing.T) {
	_, r, m, a := fallbackFixture(t)
	boom := errors.New("cannot read the migration record")
	m.err = boom
	_, err := a.Get(ctx, "TOKEN_x")
	if !errors.Is(err, boom) || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get = %v, want the done error and not not-found", err)
	}
	wantKeyError(t, err, "get", "TOKEN_x", boom)
	if r.called("get", "TOKEN_x") {
		t.Fatal("the bare key was read although done failed")
	}
}

// TestFallbackIsACopy: WithFallback leaves the original view without one,
// and a nil predicate or check gives no fallback.
func TestFallbackIsACopy(t *testing.T) {
	f := newFile(t)
	set(t, f, "TOKEN_x", "bare")
	a := mustScoped(t, f, "a")
	m := &migration{}
	fb := a.WithFallback(tokens, m.check)
	wantValue(t, fb, "TOKEN_x", "bare")
	wantAbsent(t, a, "TOKEN_x")
	wantAbsent(t, a.WithFallback(nil, m.check), "TOKEN_x")
	wantAbsent(t, a.WithFallback(tokens, nil), "TOKEN_x")
	if fb.Scope() != "a" {
		t.Fatalf("Scope() = %q", fb.Scope())
	}
}

// TestFallbackWithStoredMarker: the done check reads a marker kept in the
// store itself (as migrate does, under the reserved scope "migrate"); once
// it is written no bare key is read, even one a user creates later.
func TestFallbackWithStoredMarker(t *testing.T) {
	f := newFile(t)
	set(t, f, "TOKEN_x", "bare")
	marker := mustScoped(t, f, "migrate")
	done := func(ctx context.Context) (bool, error) {
		_, err := marker.Get(ctx, "tokens")
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	a := mustScoped(t, f, "a").WithFallback(tokens, done)
	wantValue(t, a, "TOKEN_x", "bare")

	// migrate moves the key and records completion.
	set(t, a, "TOKEN_x", "bare")
	if err := f.Delete(ctx, "TOKEN_x"); err != nil {
		t.Fatal(err)
	}
	set(t, marker, "tokens", "done")

	set(t, scope.User(f), "TOKEN_y", "a user's own secret")
	wantValue(t, a, "TOKEN_x", "bare")
	wantAbsent(t, a, "TOKEN_y")
}

// TestFallbackBareErrorNamesTheBareKey: the bare key is the caller's name,
// so its errors are returned as they are, even for a name that starts like
// a stored key of this scope.
func TestFallbackBareErrorNamesTheBareKey(t *testing.T) {
	r := record(newFile(t))
	const n = "__hush_a_x"
	r.fail[call{"get", n}] = &store.KeyError{Op: "get", Name: n, Err: syscall.EIO}
	a := mustScoped(t, r, "a").WithFallback(func(string) bool { return true }, (&migration{}).check)
	_, err := a.Get(ctx, n)
	wantKeyError(t, err, "get", n, syscall.EIO)
}

// mover is a real file store on which a migrator moves a key (writes the
// scoped key, deletes the bare one) just before the bare key is read: the
// race between a Scoped Get with fallback and a running migration.
type mover struct {
	*store.File
	bare, scoped string
}

func (m *mover) Get(ctx context.Context, name string) ([]byte, error) {
	if name == m.bare {
		v, err := m.File.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := m.File.Set(ctx, m.scoped, v); err != nil {
			return nil, err
		}
		if err := m.File.Delete(ctx, name); err != nil {
			return nil, err
		}
	}
	return m.File.Get(ctx, name)
}

// TestFallbackKeyMovedMidRead: a key moved between the scoped read and the
// bare read is found under its new name, not reported missing.
func TestFallbackKeyMovedMidRead(t *testing.T) {
	f := newFile(t)
	set(t, f, "TOKEN_x", "moving")
	m := &mover{File: f, bare: "TOKEN_x", scoped: scope.Key("a", "TOKEN_x")}
	a := mustScoped(t, m, "a").WithFallback(tokens, (&migration{}).check)
	wantValue(t, a, "TOKEN_x", "moving")
	wantAbsent(t, f, "TOKEN_x")
}
