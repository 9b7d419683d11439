// Package storetest is a conformance suite for store.Provider
// implementations, in the manner of testing/fstest: TestProvider runs the
// whole contract against fresh, empty providers, including the helpers
// store.GetMany, store.All, store.Each, store.DeleteMany and
// store.Cleanup in each way they can take.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/store"
)

// Options adjust the suite for providers that are not plain stores.
type Options struct {
	// ReadOnly providers must refuse every write with an error wrapping
	// store.ErrReadOnly. Seed fills the store underneath such a provider
	// (it is required for read-only providers).
	ReadOnly bool
	Seed     func(t *testing.T, names map[string][]byte)
}

// TestProvider runs the conformance suite. newProvider must return a new,
// empty provider each time it is called (for read-only providers: a
// provider over an empty store that Options.Seed writes to).
func TestProvider(t *testing.T, newProvider func(t *testing.T) store.Provider, opts ...Options) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.ReadOnly {
		testReadOnly(t, newProvider, o)
		return
	}
	ctx := context.Background()
	run := func(name string, fn func(t *testing.T, p store.Provider)) {
		t.Run(name, func(t *testing.T) { fn(t, newProvider(t)) })
	}

	run("EmptyList", func(t *testing.T, p store.Provider) {
		es, err := p.List(ctx)
		if err != nil {
			t.Fatalf("List on an empty store: %v", err)
		}
		if len(es) != 0 {
			t.Fatalf("List on an empty store = %v, want none", names(es))
		}
	})

	run("GetMissing", func(t *testing.T, p store.Provider) {
		_, err := p.Get(ctx, "missing")
		wantNotFound(t, "Get", "missing", err)
	})

	run("DeleteMissing", func(t *testing.T, p store.Provider) {
		wantNotFound(t, "Delete", "missing", p.Delete(ctx, "missing"))
	})

	run("SetGetExactBytes", func(t *testing.T, p store.Provider) {
		for name, v := range Values() {
			if err := p.Set(ctx, name, v); err != nil {
				t.Fatalf("Set(%s): %v", name, err)
			}
		}
		for name, v := range Values() {
			got, err := p.Get(ctx, name)
			if err != nil {
				t.Fatalf("Get(%s): %v", name, err)
			}
			if !bytes.Equal(got, v) {
				t.Errorf("Get(%s) = %q, want %q", name, got, v)
			}
		}
	})

	run("Replace", func(t *testing.T, p store.Provider) {
		mustSet(t, p, "k", "one")
		mustSet(t, p, "k", "two")
		wantValue(t, p, "k", "two")
		es, _ := p.List(ctx)
		if len(es) != 1 {
			t.Fatalf("after replacing one key List = %v", names(es))
		}
	})

	run("ListSortedWithMetadata", func(t *testing.T, p store.Provider) {
		in := []string{"zeta", "Alpha", "beta", "a.b-c_d/e", "__hushlike", "ünïcode"}
		for _, n := range in {
			mustSet(t, p, n, "v-"+n)
		}
		es, err := p.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(in)
		sort.Strings(want)
		if got := names(es); !slices.Equal(got, want) {
			t.Fatalf("List = %v, want %v", got, want)
		}
		for _, e := range es {
			if e.Created.IsZero() || e.Updated.IsZero() {
				t.Errorf("entry %s has zero timestamps: %+v", e.Name, e)
			}
			if e.Updated.Before(e.Created) {
				t.Errorf("entry %s updated before created", e.Name)
			}
		}
	})

	run("ListNeverValues", func(t *testing.T, p store.Provider) {
		mustSet(t, p, "k", "canary-value-7f3a")
		es, _ := p.List(ctx)
		if s := fmt.Sprintf("%+v", es); strings.Contains(s, "canary-value-7f3a") {
			t.Fatalf("List exposes a value: %s", s)
		}
	})

	run("Delete", func(t *testing.T, p store.Provider) {
		mustSet(t, p, "a", "1")
		mustSet(t, p, "b", "2")
		if err := p.Delete(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		_, err := p.Get(ctx, "a")
		wantNotFound(t, "Get after Delete", "a", err)
		wantValue(t, p, "b", "2")
	})

	// store.TxValues and store.TxSetMany: a Tx's bulk methods against a
	// loop of Get and Set.
	t.Run("TxBulk", func(t *testing.T) { testBulk(t, newProvider(t), newProvider(t)) })
	t.Run("TxDeleteMany", func(t *testing.T) { testBulkDelete(t, newProvider(t), newProvider(t)) })
	t.Run("TxNames", func(t *testing.T) { testNames(t, newProvider(t)) })

	// The helpers store.GetMany, store.DeleteMany and store.Cleanup, in
	// each way they can take: p's own method (or p's best way when it has
	// none), one Update, and one call at a time.
	for _, way := range ways {
		run("GetMany"+way, func(t *testing.T, p store.Provider) {
			testGetMany(t, p, hide(t, p, way), true)
		})

		run("All"+way, func(t *testing.T, p store.Provider) {
			testAll(t, p, hide(t, p, way), true)
		})

		run("DeleteMany"+way, func(t *testing.T, p store.Provider) {
			for _, n := range []string{"a", "b", "c", "d"} {
				mustSet(t, p, n, n)
			}
			q := hide(t, p, way)
			if err := store.DeleteMany(ctx, q, []string{"a", "c", "absent"}); err != nil {
				t.Fatalf("DeleteMany with an absent name: %v", err)
			}
			es, _ := p.List(ctx)
			if got := names(es); !slices.Equal(got, []string{"b", "d"}) {
				t.Fatalf("after DeleteMany List = %v, want [b d]", got)
			}
			if err := store.DeleteMany(ctx, q, nil); err != nil {
				t.Fatalf("DeleteMany(nil): %v", err)
			}
			if err := store.DeleteMany(ctx, q, []string{"d", "d"}); err != nil {
				t.Fatalf("DeleteMany naming a key twice: %v", err)
			}
			es, _ = p.List(ctx)
			if got := names(es); !slices.Equal(got, []string{"b"}) {
				t.Fatalf("after the second DeleteMany List = %v, want [b]", got)
			}
		})

		run("Cleanup"+way, func(t *testing.T, p store.Provider) {
			q := hide(t, p, way)
			if err := store.Cleanup(ctx, q); err != nil {
				t.Fatalf("Cleanup of an empty view: %v", err)
			}
			for _, n := range []string{"a", "b", "c"} {
				mustSet(t, p, n, n)
			}
			if err := store.Cleanup(ctx, q); err != nil {
				t.Fatal(err)
			}
			es, _ := p.List(ctx)
			if len(es) != 0 {
				t.Fatalf("after Cleanup List = %v", names(es))
			}
			if err := store.Cleanup(ctx, q); err != nil {
				t.Fatalf("Cleanup of an emptied view: %v", err)
			}
		})
	}

	run("InvalidNames", func(t *testing.T, p store.Provider) {
		for _, n := range InvalidNames() {
			err := p.Set(ctx, n, []byte("v"))
			if err == nil {
				t.Errorf("Set(%q) succeeded", n)
				continue
			}
			if !errors.Is(err, store.ErrInvalidName) {
				t.Errorf("Set(%q) = %v, want an error wrapping ErrInvalidName", n, err)
			}
		}
		es, _ := p.List(ctx)
		if len(es) != 0 {
			t.Fatalf("invalid names were stored: %v", names(es))
		}
	})

	run("InvalidNamesEveryOperation", func(t *testing.T, p store.Provider) {
		mustSet(t, p, "k", "v")
		for _, n := range unreadableNames() {
			_, err := p.Get(ctx, n)
			wantInvalidName(t, "Get", n, err)
			wantInvalidName(t, "Delete", n, p.Delete(ctx, n))
			if _, ok := p.(store.Updater); !ok {
				continue
			}
			for op, fn := range map[string]func(tx store.Tx) error{
				"Tx.Get":    func(tx store.Tx) error { _, err := tx.Get(n); return err },
				"Tx.Lookup": func(tx store.Tx) error { _, err := tx.Lookup(n); return err },
				"Tx.Delete": func(tx store.Tx) error { return tx.Delete(n) },
				"Tx.Set":    func(tx store.Tx) error { return tx.Set(n, []byte("v")) },
			} {
				wantInvalidName(t, op, n, store.Update(ctx, p, fn))
			}
		}
		wantValue(t, p, "k", "v")
	})

	run("ValueLimit", func(t *testing.T, p store.Provider) {
		big := bytes.Repeat([]byte{'x'}, store.MaxValueLen+1)
		err := p.Set(ctx, "big", big)
		if !errors.Is(err, store.ErrLimit) {
			t.Fatalf("Set of %d bytes = %v, want ErrLimit", len(big), err)
		}
		_, err = p.Get(ctx, "big")
		wantNotFound(t, "Get after refused Set", "big", err)
		if err := p.Set(ctx, "max", big[:store.MaxValueLen]); err != nil {
			t.Fatalf("Set of exactly the limit: %v", err)
		}
	})

	run("ErrorsNameKeyNotValue", func(t *testing.T, p store.Provider) {
		_, err := p.Get(ctx, "some-key")
		if err == nil || !strings.Contains(err.Error(), "some-key") {
			t.Fatalf("Get error %v does not name the key", err)
		}
		err = p.Set(ctx, "bad name", []byte("canary-value-7f3a"))
		if err == nil || strings.Contains(err.Error(), "canary-value-7f3a") {
			t.Fatalf("Set error %v is nil or contains the value", err)
		}
	})

	run("BatchAtomic", func(t *testing.T, p store.Provider) {
		if _, ok := p.(store.Updater); !ok {
			t.Skip("provider has no atomic batches")
		}
		mustSet(t, p, "keep", "1")
		boom := errors.New("boom")
		err := store.Update(ctx, p, func(tx store.Tx) error {
			if err := tx.Set("new", []byte("x")); err != nil {
				return err
			}
			if err := tx.Delete("keep"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update returned %v, want the function's error", err)
		}
		wantValue(t, p, "keep", "1")
		_, err = p.Get(ctx, "new")
		wantNotFound(t, "Get after a failed batch", "new", err)

		err = store.Update(ctx, p, func(tx store.Tx) error {
			v, err := tx.Get("keep")
			if err != nil {
				return err
			}
			if err := tx.Set("copy", v); err != nil {
				return err
			}
			if err := tx.SetDescription("copy", "a copy"); err != nil {
				return err
			}
			if _, err := tx.Get("copy"); err != nil {
				return fmt.Errorf("a Tx does not see its own write: %w", err)
			}
			return tx.Delete("keep")
		})
		if err != nil {
			t.Fatal(err)
		}
		wantValue(t, p, "copy", "1")
		es, _ := p.List(ctx)
		if len(es) != 1 || es[0].Name != "copy" || es[0].Description != "a copy" {
			t.Fatalf("after batch List = %+v", es)
		}
	})
}

func testReadOnly(t *testing.T, newProvider func(t *testing.T) store.Provider, o Options) {
	ctx := context.Background()
	if o.Seed == nil {
		t.Fatal("storetest: a read-only provider needs Options.Seed")
	}
	t.Run("ReadsSeed", func(t *testing.T) {
		p := newProvider(t)
		o.Seed(t, Values())
		for name, v := range Values() {
			got, err := p.Get(ctx, name)
			if err != nil || !bytes.Equal(got, v) {
				t.Errorf("Get(%s) = %q, %v; want %q", name, got, err, v)
			}
		}
		_, err := p.Get(ctx, "missing")
		wantNotFound(t, "Get", "missing", err)
		for _, n := range unreadableNames() {
			_, err := p.Get(ctx, n)
			wantInvalidName(t, "Get", n, err)
		}
		es, err := p.List(ctx)
		if err != nil || len(es) != len(Values()) {
			t.Fatalf("List = %v, %v", names(es), err)
		}
		for _, way := range []string{"", "OneByOne"} {
			testGetMany(t, p, hide(t, p, way), false)
			testAll(t, p, hide(t, p, way), false)
		}
	})
	t.Run("RefusesWrites", func(t *testing.T) {
		p := newProvider(t)
		o.Seed(t, map[string][]byte{"k": []byte("v")})
		writes := map[string]error{
			"Set":    p.Set(ctx, "k", []byte("other")),
			"Delete": p.Delete(ctx, "k"),
			"Update": store.Update(ctx, p, func(tx store.Tx) error {
				return tx.Set("k", []byte("other"))
			}),
			"TxSetMany": store.Update(ctx, p, func(tx store.Tx) error {
				return store.TxSetMany(tx, []string{"k", "new"}, [][]byte{[]byte("other"), []byte("v")})
			}),
		}
		for _, way := range ways {
			if way == "Batch" {
				if _, ok := p.(store.Updater); !ok {
					continue
				}
			}
			q := hide(t, p, way)
			writes["DeleteMany"+way] = store.DeleteMany(ctx, q, []string{"k"})
			writes["Cleanup"+way] = store.Cleanup(ctx, q)
		}
		for op, err := range writes {
			if !errors.Is(err, store.ErrReadOnly) {
				t.Errorf("%s = %v, want an error wrapping ErrReadOnly", op, err)
			}
		}
		wantValue(t, p, "k", "v")
	})
}

// ways are the ways store.DeleteMany and store.Cleanup can take (see
// hide): "" for whatever p offers.
var ways = []string{"", "Batch", "OneByOne"}

// hide returns p with its optional methods hidden so that the helpers take
// the fallback way names: "Batch" keeps only p's Updater (the subtest is
// skipped if p has none), "OneByOne" keeps only the Provider methods, and
// "" returns p itself.
func hide(t *testing.T, p store.Provider, way string) store.Provider {
	t.Helper()
	switch way {
	case "":
		return p
	case "Batch":
		u, ok := p.(store.Updater)
		if !ok {
			t.Skip("provider has no atomic batches")
		}
		return struct {
			store.Provider
			store.Updater
		}{p, u}
	case "OneByOne":
		return struct{ store.Provider }{p}
	}
	panic("storetest: unknown way " + way)
}

// Values returns names and values that every provider must round-trip
// byte for byte: every byte value, NUL, invalid UTF-8, trailing newlines,
// an empty value and a large one.
func Values() map[string][]byte {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	return map[string][]byte{
		"all-bytes":     all,
		"nul":           {0},
		"invalid-utf8":  {0xff, 0xfe, 'a', 0xc3},
		"newlines":      []byte("line\n\n"),
		"crlf":          []byte("a\r\n"),
		"empty":         {},
		"unicode":       []byte("pässwörd ✓ 🔑"),
		"quotes":        []byte(`'"$x\` + "`"),
		"large":         bytes.Repeat([]byte("0123456789abcdef"), 64<<10),
		"leading-space": []byte("  padded  "),
	}
}

// InvalidNames returns names every provider must refuse to Set.
func InvalidNames() []string {
	return append(unreadableNames(), "bidi\u202eexe.txt", "zero\u200bwidth", "zwj\u200djoin", "bom\ufeff")
}

// unreadableNames are the invalid names no store can hold, even one
// written before format characters were refused: every operation refuses
// them with ErrInvalidName, Get and Delete included, never ErrNotFound.
func unreadableNames() []string {
	return []string{"", " ", "a b", "tab\tname", "nl\nname", "ctl\x01", "del\x7f",
		"nbsp\u00a0x", "bad\xffutf8", strings.Repeat("n", 256)}
}

// wantInvalidName fails t unless err wraps ErrInvalidName.
func wantInvalidName(t *testing.T, op, name string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrInvalidName) {
		t.Errorf("%s(%q) = %v, want an error wrapping ErrInvalidName", op, name, err)
	}
}

func mustSet(t *testing.T, p store.Provider, name, value string) {
	t.Helper()
	if err := p.Set(context.Background(), name, []byte(value)); err != nil {
		t.Fatalf("Set(%s): %v", name, err)
	}
}

func wantValue(t *testing.T, p store.Provider, name, want string) {
	t.Helper()
	got, err := p.Get(context.Background(), name)
	if err != nil {
		t.Fatalf("Get(%s): %v", name, err)
	}
	if string(got) != want {
		t.Fatalf("Get(%s) = %q, want %q", name, got, want)
	}
}

func wantNotFound(t *testing.T, op, name string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s(%s) = %v, want an error wrapping store.ErrNotFound", op, name, err)
	}
	var ke *store.KeyError
	if !errors.As(err, &ke) || ke.Name != name {
		t.Fatalf("%s(%s) error %v is not a *store.KeyError naming %q", op, name, err, name)
	}
}

func names(es []store.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}
