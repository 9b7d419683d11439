package store_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store"
)

// wantAll fails t unless store.All of p gives the names List gives, in
// order, with the values GetMany gives.
func wantAll(t *testing.T, p store.Provider) {
	t.Helper()
	ctx := context.Background()
	es, err := p.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(es))
	for i, e := range es {
		want[i] = e.Name
	}
	wantVals, err := store.GetMany(ctx, p, want)
	if err != nil {
		t.Fatal(err)
	}
	names, vals, err := store.All(ctx, p)
	if err != nil || !slices.Equal(names, want) || len(vals) != len(want) {
		t.Fatalf("All = %q, %d values, %v; want %q", names, len(vals), err, want)
	}
	for i, v := range vals {
		if !bytes.Equal(v, wantVals[i]) {
			t.Errorf("All value of %s = %q, want %q", names[i], v, wantVals[i])
		}
	}
}

// All reads a file store as read from disk (values as text, with escapes,
// and as base64), and as changed since, both ways List and GetMany do.
func TestAllFile(t *testing.T) {
	ctx := context.Background()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	opts := store.Options{Identities: []age.Identity{id}, StateDir: t.TempDir()}
	path := t.TempDir() + "/store.age"
	f, err := store.Create(ctx, path, []string{id.Recipient().String()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{"text": "plain", "escaped": "a\"b\\c\n\x01", "binary": "\xff\xfe\x00",
		"empty": "", "unicode": "pässwörd", "zz": "last"}
	err = f.Update(ctx, func(tx store.Tx) error {
		for n, v := range values {
			if err := tx.Set(n, []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantAll(t, f) // as written
	f, err = store.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	wantAll(t, f) // as read
	for n, v := range map[string]string{"binary": "\x80 changed", "a-new": "\xc3", "text": "replaced", "m": "middle"} {
		if err := f.Set(ctx, n, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Delete(ctx, "zz"); err != nil {
		t.Fatal(err)
	}
	wantAll(t, f) // changed
	names, _, err := store.All(ctx, f)
	if err != nil || !slices.Equal(names, []string{"a-new", "binary", "empty", "escaped", "m", "text", "unicode"}) {
		t.Fatalf("All after the changes = %q, %v", names, err)
	}
}

// listless is a memory store whose List and GetMany fail.
type listless struct{ *store.Memory }

var errListed = errors.New("listed")

func (listless) List(context.Context) ([]store.Entry, error) { return nil, errListed }
func (listless) GetMany(context.Context, []string) ([][]byte, error) {
	return nil, errListed
}

// getFails is a Provider without All whose GetMany fails after one value.
type getFails struct{ store.Provider }

var read []byte

func (g getFails) GetMany(ctx context.Context, names []string) ([][]byte, error) {
	v, _ := g.Provider.Get(ctx, names[0])
	read = v
	return [][]byte{v}, &store.KeyError{Op: "get", Name: names[1], Err: store.ErrNotFound}
}

// store.All takes a Provider's own All, and otherwise List and GetMany,
// whose errors it returns unchanged, with no names or values and the
// values read cleared.
func TestAllFallback(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	for _, n := range []string{"a", "b"} {
		if err := m.Set(ctx, n, []byte("value-"+n)); err != nil {
			t.Fatal(err)
		}
	}
	names, vals, err := store.All(ctx, listless{m})
	if err != nil || !slices.Equal(names, []string{"a", "b"}) || string(vals[1]) != "value-b" {
		t.Fatalf("All of a provider with its own = %q, %q, %v; want its method's", names, vals, err)
	}
	names, vals, err = store.All(ctx, struct{ store.Provider }{listless{m}})
	if !errors.Is(err, errListed) || names != nil || vals != nil {
		t.Fatalf("All without the method, List failing = %q, %q, %v; want List's error", names, vals, err)
	}
	names, vals, err = store.All(ctx, getFails{m})
	var ke *store.KeyError
	if !errors.As(err, &ke) || ke.Name != "b" || !errors.Is(err, store.ErrNotFound) || names != nil || vals != nil {
		t.Fatalf("All without the method, GetMany failing = %q, %q, %v; want GetMany's error", names, vals, err)
	}
	if !bytes.Equal(read, make([]byte, len("value-a"))) {
		t.Fatalf("the value read before GetMany failed is %q, want it cleared", read)
	}
}
