package scope_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// reservedNames are refused by User.
var reservedNames = []string{"__hush_", "__hush_anything", "__hush_a_x", "__hush_migrate_tokens", "__hush_a_", "__hush_Ops_x"}

// ordinaryNames look like reserved ones but are not: User treats them as
// any other name.
var ordinaryNames = []string{"x__hush_a_y", "TOKEN___hush_a_x", "__hushlike", "_hush_a_x", "__HUSH_a_x", "__hus_x", "a__hush_"}

// TestUserRefusesReserved: get/set/delete of a reserved name fail with a
// KeyError wrapping ErrReserved that names the operation and the key, with
// no call to the inner Provider and no write.
func TestUserRefusesReserved(t *testing.T) {
	f := newFile(t)
	for _, n := range reservedNames {
		set(t, f, n, "system")
	}
	r := record(f).withUpdate()
	u := scope.User(r)
	check := noWrite(t, f)
	for _, n := range reservedNames {
		_, err := u.Get(ctx, n)
		wantKeyError(t, err, "get", n, scope.ErrReserved)
		wantKeyError(t, u.Set(ctx, n, []byte("user")), "set", n, scope.ErrReserved)
		wantKeyError(t, u.Delete(ctx, n), "delete", n, scope.ErrReserved)
		if strings.Contains(fmt.Sprint(u.Set(ctx, n, []byte("canary-3c1d"))), "canary-3c1d") {
			t.Fatal("the refusal shows the value")
		}
	}
	if got := r.calls(); len(got) != 0 {
		t.Fatalf("refused calls reached the inner provider: %v", got)
	}
	check()
	for _, n := range reservedNames {
		wantValue(t, f, n, "system")
	}
}

func TestUserListHidesReserved(t *testing.T) {
	f := newFile(t)
	u := scope.User(f)
	for _, n := range reservedNames {
		set(t, f, n, "system")
	}
	if got := list(t, u); len(got) != 0 {
		t.Fatalf("List with only reserved keys = %v", got)
	}
	set(t, u, "b", "1")
	set(t, u, "a", "2")
	want := []string{"a", "b"}
	for _, n := range ordinaryNames {
		set(t, u, n, "user")
		want = append(want, n)
	}
	slices.Sort(want)
	if got := list(t, u); !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
}

// TestUserOrdinaryNames: a name containing __hush_ anywhere but at the
// start is an ordinary name: set, get, delete all work.
func TestUserOrdinaryNames(t *testing.T) {
	f := newFile(t)
	u := scope.User(f)
	for _, n := range ordinaryNames {
		set(t, u, n, "v-"+n)
		wantValue(t, u, n, "v-"+n)
		wantValue(t, f, n, "v-"+n)
	}
	if err := u.DeleteMany(ctx, ordinaryNames[:2]); err != nil {
		t.Fatal(err)
	}
	for _, n := range ordinaryNames[2:] {
		if err := u.Delete(ctx, n); err != nil {
			t.Fatalf("Delete(%s): %v", n, err)
		}
	}
	if got := list(t, f); len(got) != 0 {
		t.Fatalf("left behind %v", got)
	}
}

// TestUserDeleteManyAllOrNothing: one reserved name among valid ones
// deletes nothing, makes no inner call and no write.
func TestUserDeleteManyAllOrNothing(t *testing.T) {
	f := newFile(t)
	r := record(f).withUpdate()
	u := scope.User(r)
	set(t, u, "a", "1")
	set(t, u, "b", "2")
	set(t, f, "__hush_ci_tok", "system")
	r.reset()
	check := noWrite(t, f)

	for _, batch := range [][]string{
		{"a", "__hush_ci_tok", "b"},
		{"__hush_ci_tok", "a"},
		{"a", "b", "__hush_x"},
	} {
		err := u.DeleteMany(ctx, batch)
		bad := batch[slices.IndexFunc(batch, scope.IsReserved)]
		wantKeyError(t, err, "delete", bad, scope.ErrReserved)
	}
	if got := r.calls(); len(got) != 0 {
		t.Fatalf("refused DeleteMany reached the inner provider: %v", got)
	}
	check()
	wantValue(t, f, "a", "1")
	wantValue(t, f, "b", "2")
	wantValue(t, f, "__hush_ci_tok", "system")

	if err := u.DeleteMany(ctx, []string{"a", "b", "absent"}); err != nil {
		t.Fatal(err)
	}
	if got := list(t, f); !slices.Equal(got, []string{"__hush_ci_tok"}) {
		t.Fatalf("after DeleteMany the store holds %v", got)
	}
}

func TestUserCleanup(t *testing.T) {
	f := newFile(t)
	u := scope.User(f)
	for _, n := range reservedNames {
		set(t, f, n, "system")
	}
	check := noWrite(t, f)
	if err := u.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	check()

	for _, n := range append([]string{"a", "b"}, ordinaryNames...) {
		set(t, u, n, "user")
	}
	if err := u.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if got := list(t, u); len(got) != 0 {
		t.Fatalf("after Cleanup User lists %v", got)
	}
	for _, n := range reservedNames {
		wantValue(t, f, n, "system")
	}

	// One atomic change.
	m := store.NewMemory()
	mu := scope.User(m)
	set(t, m, "__hush_a_x", "system")
	for _, n := range []string{"1", "2", "3"} {
		set(t, mu, n, n)
	}
	w := m.Writes()
	if err := mu.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if d := m.Writes() - w; d != 1 {
		t.Fatalf("Cleanup made %d writes, want 1", d)
	}
	wantValue(t, m, "__hush_a_x", "system")
}

// TestUserCleanupNoUpdater: without batches Cleanup makes one DeleteMany of
// the user keys only, and none when there are none.
func TestUserCleanupNoUpdater(t *testing.T) {
	f := newFile(t)
	r := record(f)
	u := scope.User(r)
	set(t, f, "__hush_a_x", "system")
	if err := u.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.calls(); !slices.Equal(got, []call{{"list", ""}}) {
		t.Fatalf("Cleanup with no user keys made calls %v", got)
	}
	set(t, f, "a", "1")
	set(t, f, "x__hush_a_y", "2")
	r.reset()
	if err := u.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.calls(); !slices.Equal(got, []call{{"list", ""}, {"deletemany", "a,x__hush_a_y"}}) {
		t.Fatalf("Cleanup made calls %v", got)
	}
	wantValue(t, f, "__hush_a_x", "system")
}

// TestUserUpdate: the Tx of a user view refuses reserved names and hides
// them from List.
func TestUserUpdate(t *testing.T) {
	f := newFile(t)
	set(t, f, "__hush_a_x", "system")
	set(t, f, "u", "user")
	u := scope.User(f)
	check := noWrite(t, f)
	err := u.Update(ctx, func(tx store.Tx) error {
		es, err := tx.List()
		if err != nil {
			return err
		}
		if got := names(es); !slices.Equal(got, []string{"u"}) {
			return fmt.Errorf("tx.List = %v", got)
		}
		v, err := tx.Get("__hush_a_x")
		if v != nil {
			return fmt.Errorf("tx.Get of a reserved key returned a value")
		}
		wantKeyError(t, err, "get", "__hush_a_x", scope.ErrReserved)
		_, err = tx.Lookup("__hush_a_x")
		wantKeyError(t, err, "lookup", "__hush_a_x", scope.ErrReserved)
		wantKeyError(t, tx.Delete("__hush_a_x"), "delete", "__hush_a_x", scope.ErrReserved)
		wantKeyError(t, tx.SetDescription("__hush_a_x", "d"), "describe", "__hush_a_x", scope.ErrReserved)
		if err := tx.Set("u", []byte("changed")); err != nil {
			return err
		}
		return tx.Set("__hush_a_x", []byte("user"))
	})
	wantKeyError(t, err, "set", "__hush_a_x", scope.ErrReserved)
	check()
	wantValue(t, f, "u", "user")
	wantValue(t, f, "__hush_a_x", "system")

	if err := u.Update(ctx, func(tx store.Tx) error {
		if err := tx.Set("v", []byte("1")); err != nil {
			return err
		}
		return tx.SetDescription("v", "desc")
	}); err != nil {
		t.Fatal(err)
	}
	es, _ := u.List(ctx)
	if len(es) != 2 || es[1].Name != "v" || es[1].Description != "desc" {
		t.Fatalf("List = %+v", es)
	}
}

// TestUserPassesErrorsThrough: errors of the inner Provider reach the
// caller unchanged.
func TestUserPassesErrorsThrough(t *testing.T) {
	r := record(newFile(t))
	u := scope.User(r)
	_, err := u.Get(ctx, "missing")
	wantKeyError(t, err, "get", "missing", store.ErrNotFound)
	boom := errors.New("boom")
	r.fail[call{"list", ""}] = boom
	if _, err := u.List(ctx); !errors.Is(err, boom) {
		t.Fatalf("List = %v", err)
	}
	if err := u.Cleanup(ctx); !errors.Is(err, boom) {
		t.Fatalf("Cleanup = %v", err)
	}
	wantKeyError(t, u.Set(ctx, "bad name", nil), "set", "bad name", store.ErrInvalidName)
}
