package scope_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// TestReadOnlyRefusesWrites: every write fails with ErrReadOnly without
// reaching the inner Provider or the file.
func TestReadOnlyRefusesWrites(t *testing.T) {
	f := newFile(t)
	set(t, f, "k", "v")
	r := record(f).withUpdate()
	ro := scope.ReadOnly(r)
	check := noWrite(t, f)

	wantKeyError(t, ro.Set(ctx, "k", []byte("w")), "set", "k", store.ErrReadOnly)
	wantKeyError(t, ro.Delete(ctx, "k"), "delete", "k", store.ErrReadOnly)
	for op, err := range map[string]error{
		"DeleteMany": ro.DeleteMany(ctx, []string{"k"}),
		"Cleanup":    ro.Cleanup(ctx),
	} {
		if !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("%s = %v, want ErrReadOnly", op, err)
		}
	}
	if got := r.calls(); len(got) != 0 {
		t.Fatalf("refused writes reached the inner provider: %v", got)
	}

	err := ro.Update(ctx, func(tx store.Tx) error {
		v, err := tx.Get("k")
		if err != nil || string(v) != "v" {
			return fmt.Errorf("tx.Get = %q, %v", v, err)
		}
		if e, err := tx.Lookup("k"); err != nil || e.Name != "k" {
			return fmt.Errorf("tx.Lookup = %+v, %v", e, err)
		}
		_, err = tx.Lookup("nope")
		wantKeyError(t, err, "lookup", "nope", store.ErrNotFound)
		if es, err := tx.List(); err != nil || !slices.Equal(names(es), []string{"k"}) {
			return fmt.Errorf("tx.List = %v, %v", es, err)
		}
		wantKeyError(t, tx.Delete("k"), "delete", "k", store.ErrReadOnly)
		wantKeyError(t, tx.SetDescription("k", "d"), "describe", "k", store.ErrReadOnly)
		return tx.Set("k", []byte("w"))
	})
	wantKeyError(t, err, "set", "k", store.ErrReadOnly)
	for _, c := range r.calls() {
		if c.op != "get" && c.op != "list" {
			t.Errorf("a read-only Update made the call %v", c)
		}
	}
	check()
	wantValue(t, ro, "k", "v")
}

// TestReadOnlyComposes: a read-only wrapper shows exactly what the view
// under it shows, and a scoped view over a read-only one refuses writes
// naming the caller's key.
func TestReadOnlyComposes(t *testing.T) {
	f := newFile(t)
	set(t, f, "u", "user")
	set(t, f, "__hush_a_t", "a")
	set(t, f, "__hush_b_t", "b")
	if got := list(t, scope.ReadOnly(scope.User(f))); !slices.Equal(got, []string{"u"}) {
		t.Fatalf("ReadOnly(User) lists %v", got)
	}
	_, err := scope.ReadOnly(scope.User(f)).Get(ctx, "__hush_a_t")
	wantKeyError(t, err, "get", "__hush_a_t", scope.ErrReserved)
	ra := scope.ReadOnly(mustScoped(t, f, "a"))
	if got := list(t, ra); !slices.Equal(got, []string{"t"}) {
		t.Fatalf("ReadOnly(Scoped a) lists %v", got)
	}
	wantValue(t, ra, "t", "a")

	ar := mustScoped(t, scope.ReadOnly(f), "a")
	err = ar.Set(ctx, "t", []byte("x"))
	wantKeyError(t, err, "set", "t", store.ErrReadOnly)
	noPrefix(t, err, "a")
	wantValue(t, ar, "t", "a")
}
