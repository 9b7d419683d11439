package formats

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

func TestImportModes(t *testing.T) {
	existing := map[string]string{"SAME": "same", "DIFF": "old", "OTHER": "untouched"}
	in := sec("NEW", "new\x00\xff", "SAME", "same", "DIFF", "imported")
	for _, tc := range []struct {
		mode  ImportMode
		want  map[string]string
		rep   ImportReport
		clash bool
	}{
		{mode: ImportFail, clash: true},
		{
			mode: ImportOverwrite,
			want: map[string]string{"NEW": "new\x00\xff", "SAME": "same", "DIFF": "imported", "OTHER": "untouched"},
			rep:  ImportReport{Added: []string{"NEW"}, Overwritten: []string{"DIFF"}, Unchanged: []string{"SAME"}},
		},
		{
			mode: ImportSkipExisting,
			want: map[string]string{"NEW": "new\x00\xff", "SAME": "same", "DIFF": "old", "OTHER": "untouched"},
			rep:  ImportReport{Added: []string{"NEW"}, Unchanged: []string{"SAME"}, Skipped: []string{"DIFF"}},
		},
	} {
		f := newStore(t, existing)
		before := stateOf(t, f.Path())
		rep, err := Import(ctx, f, in, tc.mode)
		if tc.clash {
			var ce *ClashError
			if !errors.As(err, &ce) || !errors.Is(err, ErrClash) || !slices.Equal(ce.Names, []string{"DIFF"}) || rep != nil {
				t.Fatalf("mode %d: Import = %+v, %v; want a ClashError naming DIFF", tc.mode, rep, err)
			}
			if strings.Contains(err.Error(), "imported") || strings.Contains(err.Error(), "old") {
				t.Errorf("clash error shows a value: %v", err)
			}
			before.unchanged(t, f.Path()) // NEW was not added either
			continue
		}
		if err != nil {
			t.Fatalf("mode %d: %v", tc.mode, err)
		}
		if !slices.Equal(rep.Added, tc.rep.Added) || !slices.Equal(rep.Overwritten, tc.rep.Overwritten) ||
			!slices.Equal(rep.Unchanged, tc.rep.Unchanged) || !slices.Equal(rep.Skipped, tc.rep.Skipped) {
			t.Errorf("mode %d: report %+v, want %+v", tc.mode, *rep, tc.rep)
		}
		if d := cmp.Diff(tc.want, storetest.Dump(t, f)); d != "" {
			t.Errorf("mode %d: store:\n%s", tc.mode, d)
		}
	}
}

// TestImportIdenticalWritesNothing: values already there are not clashes,
// and importing them again does not replace the store file.
func TestImportIdenticalWritesNothing(t *testing.T) {
	f := newStore(t, map[string]string{"A": "1", "B": "2"})
	before := stateOf(t, f.Path())
	rep, err := Import(ctx, f, sec("A", "1", "B", "2"), ImportFail)
	if err != nil || len(rep.Unchanged) != 2 || len(rep.Added) != 0 {
		t.Fatalf("Import = %+v, %v", rep, err)
	}
	before.unchanged(t, f.Path())
}

// TestImportRefusalsWriteNothing: invalid names, oversized values,
// duplicates and reserved names (through a User view) refuse the whole
// import before anything is written.
func TestImportRefusalsWriteNothing(t *testing.T) {
	f := newStore(t, map[string]string{"A": "1"})
	before := stateOf(t, f.Path())
	big := make([]byte, store.MaxValueLen+1)
	for _, tc := range []struct {
		name string
		p    store.Provider
		in   []Secret
		is   error
	}{
		{"invalid name", f, sec("OK", "v", "bad name", "v"), store.ErrInvalidName},
		{"empty name", f, sec("OK", "v", "", "v"), store.ErrInvalidName},
		{"value too large", f, []Secret{{"OK", []byte("v")}, {"BIG", big}}, store.ErrLimit},
		{"duplicate", f, sec("OK", "v", "OK", "w"), nil},
		{"reserved through User", scope.User(f), sec("OK", "v", "__hush_ci_x", "v"), scope.ErrReserved},
	} {
		_, err := Import(ctx, tc.p, tc.in, ImportOverwrite)
		if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s: Import = %v, want %v", tc.name, err, tc.is)
		}
		before.unchanged(t, f.Path())
	}
}

// TestImportAllOrNothing fails the k-th call of an import, for every k:
// the store is then exactly as before, never half-imported.
func TestImportAllOrNothing(t *testing.T) {
	in := sec("A", "1", "B", "2", "C", "3", "D", "4", "EXISTING", "new")
	f := newStore(t, map[string]string{"EXISTING": "old", "KEEP": "k"})
	want := storetest.Dump(t, f)
	var calls int
	if _, err := Import(ctx, failAt(f, 0, &calls), in, ImportOverwrite); err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= calls; k++ {
		g := newStore(t, map[string]string{"EXISTING": "old", "KEEP": "k"})
		before := stateOf(t, g.Path())
		var n int
		_, err := Import(ctx, failAt(g, k, &n), in, ImportOverwrite)
		if !errors.Is(err, errInjected) {
			t.Fatalf("k=%d: Import = %v", k, err)
		}
		before.unchanged(t, g.Path())
		if d := cmp.Diff(want, storetest.Dump(t, g)); d != "" {
			t.Fatalf("k=%d: store changed:\n%s", k, d)
		}
	}
}

// TestImportThroughViews: a Scoped view lands secrets in its scope.
func TestImportThroughViews(t *testing.T) {
	f := newStore(t, nil)
	ci := mustScoped(t, f, "ci")
	if _, err := Import(ctx, ci, sec("TOKEN", "t"), ImportFail); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"__hush_ci_TOKEN": "t"}, storetest.Dump(t, f)); d != "" {
		t.Fatal(d)
	}
}
