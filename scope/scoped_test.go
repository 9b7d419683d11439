package scope_test

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/gofrs/flock"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

func mustScoped(t testing.TB, p store.Provider, s string) *scope.View {
	t.Helper()
	v, err := scope.Scoped(p, s)
	if err != nil {
		t.Fatalf("Scoped(%q): %v", s, err)
	}
	return v
}

func TestScopedInvalidScope(t *testing.T) {
	f := newFile(t)
	for _, s := range invalidScopes {
		v, err := scope.Scoped(f, s)
		if !errors.Is(err, scope.ErrInvalidScope) || v != nil {
			t.Errorf("Scoped(%q) = %v, %v; want nil and ErrInvalidScope", s, v, err)
		}
	}
	if v := mustScoped(t, f, "ci"); v.Scope() != "ci" {
		t.Errorf("Scope() = %q", v.Scope())
	}
	if _, err := scope.Scoped(nil, "a"); err == nil {
		t.Error("Scoped(nil, a) succeeded")
	}
}

// TestScopedKeys: Get, Set and Delete act on __hush_<scope>_<name> and
// nothing else.
func TestScopedKeys(t *testing.T) {
	f := newFile(t)
	a := mustScoped(t, f, "a")
	set(t, f, "x", "bare")
	set(t, f, "__hush_b_x", "b")

	set(t, a, "x", "scoped")
	wantValue(t, f, "__hush_a_x", "scoped")
	wantValue(t, f, "x", "bare")
	wantValue(t, f, "__hush_b_x", "b")
	wantValue(t, a, "x", "scoped")

	set(t, f, "__hush_a_y", "raw")
	wantValue(t, a, "y", "raw")

	if err := a.Delete(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, f, "__hush_a_x")
	wantAbsent(t, a, "x")
	wantValue(t, f, "x", "bare")
	wantValue(t, f, "__hush_b_x", "b")

	// A name that looks reserved is just a name inside a scope.
	set(t, a, "__hush_b_x", "nested")
	wantValue(t, f, "__hush_a___hush_b_x", "nested")
	wantValue(t, f, "__hush_b_x", "b")
	b := mustScoped(t, f, "b")
	wantValue(t, b, "x", "b")
}

// TestScopedErrors: an inner error keeps its meaning (errors.Is) and names
// the caller's key, never the prefixed one.
func TestScopedErrors(t *testing.T) {
	f := newFile(t)
	a := mustScoped(t, f, "a")

	_, err := a.Get(ctx, "missing")
	wantKeyError(t, err, "get", "missing", store.ErrNotFound)
	noPrefix(t, err, "a")
	err = a.Delete(ctx, "missing")
	wantKeyError(t, err, "delete", "missing", store.ErrNotFound)
	noPrefix(t, err, "a")

	err = a.Set(ctx, "big", make([]byte, store.MaxValueLen+1))
	wantKeyError(t, err, "set", "big", store.ErrLimit)
	noPrefix(t, err, "a")

	for _, n := range []string{"", "a b", "nl\n", "bad\xff"} {
		err := a.Set(ctx, n, []byte("v"))
		wantKeyError(t, err, "set", n, store.ErrInvalidName)
	}

	// The caller's name fits 255 bytes but the stored key would not.
	long := strings.Repeat("n", store.MaxNameLen-len("__hush_a_")+1)
	for op, err := range map[string]error{
		"set":    a.Set(ctx, long, []byte("v")),
		"delete": a.Delete(ctx, long),
		"get":    func() error { _, err := a.Get(ctx, long); return err }(),
	} {
		wantKeyError(t, err, op, long, store.ErrLimit)
		if !errors.Is(err, store.ErrInvalidName) {
			t.Errorf("%s of an over-long scoped name: %v, want ErrInvalidName too", op, err)
		}
		noPrefix(t, err, "a")
	}
	if err := a.Set(ctx, long[1:], []byte("v")); err != nil {
		t.Fatalf("Set of a name whose key is exactly %d bytes: %v", store.MaxNameLen, err)
	}
	wantValue(t, f, scope.Key("a", long[1:]), "v")
}

// TestScopedLockTimeout: a real lock held elsewhere gives ErrLockTimeout
// naming the caller's key.
func TestScopedLockTimeout(t *testing.T) {
	f, id := storetest.NewFile(t)
	short, err := store.Open(f.Path(), store.Options{Identities: []age.Identity{id}, LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l := flock.New(f.LockPath())
	if err := l.Lock(); err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	a := mustScoped(t, short, "a")
	err = a.Set(ctx, "tok", []byte("v"))
	wantKeyError(t, err, "set", "tok", store.ErrLockTimeout)
	noPrefix(t, err, "a")
}

// TestScopedDecryptError: a store this identity cannot open gives
// ErrDecrypt, not "not found", on every read.
func TestScopedDecryptError(t *testing.T) {
	f := newFile(t)
	set(t, f, "__hush_a_x", "v")
	other, _ := age.GenerateX25519Identity()
	wrong, err := store.Open(f.Path(), store.Options{Identities: []age.Identity{other}})
	if err != nil {
		t.Fatal(err)
	}
	a := mustScoped(t, wrong, "a")
	_, err = a.Get(ctx, "x")
	if !errors.Is(err, store.ErrDecrypt) || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get with the wrong identity = %v, want ErrDecrypt", err)
	}
	noPrefix(t, err, "a")
	if _, err := a.List(ctx); !errors.Is(err, store.ErrDecrypt) {
		t.Fatalf("List with the wrong identity = %v, want ErrDecrypt", err)
	}
}

// TestScopedErrorRewritten: a *store.KeyError from the inner Provider is
// rebuilt with the caller's name, and errors.Is and errors.As still reach
// everything it wrapped. Any other error is returned as it is: by the
// Provider contract it names no key.
func TestScopedErrorRewritten(t *testing.T) {
	r := record(newFile(t))
	eio := &fs.PathError{Op: "read", Path: "/dev/disk", Err: syscall.EIO}
	r.fail[call{"get", "__hush_a_x"}] = &store.KeyError{Op: "get", Name: "__hush_a_x", Err: fmt.Errorf("backend: %w", eio)}
	r.fail[call{"set", "__hush_a_x"}] = &store.KeyError{Op: "set", Name: "__hush_a_x",
		Err: errors.Join(store.ErrLockTimeout, errors.New("waiting for the lock"))}
	down := errors.New("backend down")
	r.fail[call{"delete", "__hush_a_x"}] = down
	a := mustScoped(t, r, "a")

	_, err := a.Get(ctx, "x")
	wantKeyError(t, err, "get", "x", syscall.EIO)
	noPrefix(t, err, "a")
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe != eio {
		t.Fatalf("errors.As(%v, *fs.PathError) does not reach the inner error", err)
	}
	if want := "get x: backend: read /dev/disk: input/output error"; err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}

	err = a.Set(ctx, "x", []byte("v"))
	wantKeyError(t, err, "set", "x", store.ErrLockTimeout)
	noPrefix(t, err, "a")

	if err := a.Delete(ctx, "x"); err != down {
		t.Fatalf("Delete = %v, want the inner error itself", err)
	}
}

func TestScopedList(t *testing.T) {
	f := newFile(t)
	a := mustScoped(t, f, "a")
	if got := list(t, a); len(got) != 0 {
		t.Fatalf("List of an empty scope = %v", got)
	}
	for _, k := range []string{"x", "__hush_b_x", "__hush_ab_x", "__hush_a_", "__hush_b___hush_a_x", "a_x", "__hush_a"} {
		set(t, f, k, "other")
	}
	if got := list(t, a); len(got) != 0 {
		t.Fatalf("List of a scope with no keys of its own = %v", got)
	}
	err := a.Update(ctx, func(tx store.Tx) error {
		for _, n := range []string{"z", "m", "__hush_b_x", "x"} {
			if err := tx.Set(n, []byte("v-"+n)); err != nil {
				return err
			}
		}
		return tx.SetDescription("m", "the m secret")
	})
	if err != nil {
		t.Fatal(err)
	}
	es, err := a.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(es), []string{"__hush_b_x", "m", "x", "z"}; !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	raw, _ := f.List(ctx)
	for _, e := range es {
		i := slices.IndexFunc(raw, func(r store.Entry) bool { return r.Name == scope.Key("a", e.Name) })
		r := raw[i]
		if e.Description != r.Description || !e.Created.Equal(r.Created) || !e.Updated.Equal(r.Updated) || e.Created.IsZero() {
			t.Errorf("entry %+v lost metadata of %+v", e, r)
		}
	}
	if es[1].Description != "the m secret" {
		t.Errorf("description = %q", es[1].Description)
	}
}

func TestScopedCleanup(t *testing.T) {
	f := newFile(t)
	a := mustScoped(t, f, "a")
	others := []string{"x", "__hush_b_x", "__hush_ab_x", "__hush_a_", "y__hush_a_x"}
	for _, k := range others {
		set(t, f, k, "other")
	}

	check := noWrite(t, f)
	if err := a.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	check()

	set(t, a, "x", "1")
	set(t, a, "y", "2")
	if err := a.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if got := list(t, a); len(got) != 0 {
		t.Fatalf("after Cleanup List = %v", got)
	}
	for _, k := range others {
		wantValue(t, f, k, "other")
	}

	// One atomic change: a single write of the store.
	m := store.NewMemory()
	am := mustScoped(t, m, "a")
	set(t, m, "__hush_b_x", "b")
	for _, n := range []string{"1", "2", "3"} {
		set(t, am, n, n)
	}
	w := m.Writes()
	if err := am.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if d := m.Writes() - w; d != 1 {
		t.Fatalf("Cleanup of three keys made %d writes, want 1", d)
	}
	w = m.Writes()
	if err := am.Cleanup(ctx); err != nil || m.Writes() != w {
		t.Fatalf("Cleanup of an empty scope: %v, %d writes", err, m.Writes()-w)
	}
	wantValue(t, m, "__hush_b_x", "b")
}

// TestScopedCleanupNoUpdater: over a Provider without batches, Cleanup
// lists and makes one DeleteMany of this scope's keys, or no call at all.
func TestScopedCleanupNoUpdater(t *testing.T) {
	f := newFile(t)
	r := record(f)
	a := mustScoped(t, r, "a")
	set(t, f, "__hush_b_x", "b")
	set(t, f, "x", "bare")
	if err := a.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.calls(); !slices.Equal(got, []call{{"list", ""}}) {
		t.Fatalf("Cleanup of an empty scope made calls %v", got)
	}
	set(t, f, "__hush_a_1", "1")
	set(t, f, "__hush_a_2", "2")
	r.reset()
	if err := a.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.calls(); !slices.Equal(got, []call{{"list", ""}, {"deletemany", "__hush_a_1,__hush_a_2"}}) {
		t.Fatalf("Cleanup made calls %v", got)
	}
	wantValue(t, f, "__hush_b_x", "b")
	wantValue(t, f, "x", "bare")
}

func TestScopedDeleteMany(t *testing.T) {
	f := newFile(t)
	r := record(f)
	a := mustScoped(t, r, "a")
	set(t, f, "x", "bare")
	set(t, f, "__hush_b_x", "b")
	set(t, a, "x", "1")
	set(t, a, "y", "2")
	set(t, a, "z", "3")
	r.reset()

	if err := a.DeleteMany(ctx, []string{"x", "y", "absent"}); err != nil {
		t.Fatal(err)
	}
	if got := r.calls(); !slices.Equal(got, []call{{"deletemany", "__hush_a_x,__hush_a_y,__hush_a_absent"}}) {
		t.Fatalf("DeleteMany made calls %v, want one prefixed DeleteMany", got)
	}
	if got := list(t, a); !slices.Equal(got, []string{"z"}) {
		t.Fatalf("after DeleteMany List = %v", got)
	}
	wantValue(t, f, "x", "bare")
	wantValue(t, f, "__hush_b_x", "b")

	// An invalid name refuses the whole batch before any call.
	r.reset()
	check := noWrite(t, f)
	err := a.DeleteMany(ctx, []string{"z", "bad name"})
	wantKeyError(t, err, "delete", "bad name", store.ErrInvalidName)
	if got := r.calls(); len(got) != 0 {
		t.Fatalf("refused DeleteMany made calls %v", got)
	}
	check()
	wantValue(t, a, "z", "3")

	// One atomic change: a single write.
	m := store.NewMemory()
	am := mustScoped(t, m, "a")
	for _, n := range []string{"1", "2", "3"} {
		set(t, am, n, n)
	}
	set(t, m, "1", "bare")
	w := m.Writes()
	if err := am.DeleteMany(ctx, []string{"1", "2", "3"}); err != nil {
		t.Fatal(err)
	}
	if d := m.Writes() - w; d != 1 {
		t.Fatalf("DeleteMany of three keys made %d writes, want 1", d)
	}
	wantValue(t, m, "1", "bare")
}

// TestScopedUpdate: the Tx of a scoped view prefixes names, lists only its
// scope, strips the prefix from errors, and rolls back as a whole.
func TestScopedUpdate(t *testing.T) {
	f := newFile(t)
	a := mustScoped(t, f, "a")
	set(t, f, "x", "bare")
	set(t, f, "__hush_b_y", "b")
	set(t, a, "y", "a")

	err := a.Update(ctx, func(tx store.Tx) error {
		es, err := tx.List()
		if err != nil {
			return err
		}
		if got := names(es); !slices.Equal(got, []string{"y"}) {
			return fmt.Errorf("tx.List = %v", got)
		}
		if _, err := tx.Get("x"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tx.Get(x) = %v, want not found (the bare key is not in scope)", err)
		}
		e, err := tx.Lookup("y")
		if err != nil || e.Name != "y" {
			return fmt.Errorf("tx.Lookup(y) = %+v, %v", e, err)
		}
		_, err = tx.Lookup("nope")
		wantKeyError(t, err, "lookup", "nope", store.ErrNotFound)
		noPrefix(t, err, "a")
		err = tx.Delete("nope")
		wantKeyError(t, err, "delete", "nope", store.ErrNotFound)
		noPrefix(t, err, "a")
		err = tx.SetDescription("nope", "d")
		wantKeyError(t, err, "describe", "nope", store.ErrNotFound)
		noPrefix(t, err, "a")
		err = tx.Set("bad name", nil)
		wantKeyError(t, err, "set", "bad name", store.ErrInvalidName)
		if err := tx.Set("x", []byte("scoped")); err != nil {
			return err
		}
		return tx.Delete("y")
	})
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, f, "__hush_a_x", "scoped")
	wantValue(t, f, "x", "bare")
	wantAbsent(t, f, "__hush_a_y")
	wantValue(t, f, "__hush_b_y", "b")

	// An error from fn discards the batch, and the error is fn's.
	check := noWrite(t, f)
	err = a.Update(ctx, func(tx store.Tx) error {
		if err := tx.Set("new", []byte("v")); err != nil {
			return err
		}
		_, err := tx.Get("missing")
		return err
	})
	wantKeyError(t, err, "get", "missing", store.ErrNotFound)
	noPrefix(t, err, "a")
	check()
	wantAbsent(t, a, "new")
}

// TestScopedOverUser: every scoped key is reserved, so a Scoped view over a
// User view can do nothing, and says so without showing its prefix.
func TestScopedOverUser(t *testing.T) {
	f := newFile(t)
	set(t, f, "__hush_a_x", "daemon")
	a := mustScoped(t, scope.User(f), "a")
	check := noWrite(t, f)
	_, err := a.Get(ctx, "x")
	wantKeyError(t, err, "get", "x", scope.ErrReserved)
	noPrefix(t, err, "a")
	wantKeyError(t, a.Set(ctx, "x", []byte("v")), "set", "x", scope.ErrReserved)
	wantKeyError(t, a.Delete(ctx, "x"), "delete", "x", scope.ErrReserved)
	wantKeyError(t, a.DeleteMany(ctx, []string{"x"}), "delete", "x", scope.ErrReserved)
	if err := a.Cleanup(ctx); err != nil {
		t.Fatalf("Cleanup: %v (nothing is visible, so nothing to do)", err)
	}
	if got := list(t, a); len(got) != 0 {
		t.Fatalf("List = %v", got)
	}
	check()
	wantValue(t, f, "__hush_a_x", "daemon")
}

// TestScopedNamesThatLookScoped: a caller's name that itself starts with
// the view's prefix is stripped once, never twice, on every path (plain
// calls, Tx calls returned through Update, errors the inner store returns).
func TestScopedNamesThatLookScoped(t *testing.T) {
	f := newFile(t)
	a := mustScoped(t, f, "a")
	const n = "__hush_a_x" // stored as __hush_a___hush_a_x
	_, err := a.Get(ctx, n)
	wantKeyError(t, err, "get", n, store.ErrNotFound)
	wantKeyError(t, a.Delete(ctx, n), "delete", n, store.ErrNotFound)
	err = a.Update(ctx, func(tx store.Tx) error { return tx.Delete(n) })
	wantKeyError(t, err, "delete", n, store.ErrNotFound)
	err = a.Update(ctx, func(tx store.Tx) error { _, err := tx.Get(n); return fmt.Errorf("wrapped: %w", err) })
	wantKeyError(t, err, "get", n, store.ErrNotFound)

	r := record(f)
	r.fail[call{"set", "__hush_a___hush_a_x"}] = &store.KeyError{Op: "set",
		Name: "__hush_a___hush_a_x", Err: errors.New("disk full")}
	err = mustScoped(t, r, "a").Set(ctx, n, []byte("v"))
	wantKeyError(t, err, "set", n, nil)
	if want := "set __hush_a_x: disk full"; err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}
}
