package formats

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"

	"github.com/hush-secrets/hush/internal/testkit"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

// openFixture copies a store of fixtures/store-v1 into a private 0600 file
// and opens it; it also returns its plaintext, decrypted by age itself.
func openFixture(t testing.TB, name string) (*store.File, []byte) {
	t.Helper()
	idText, err := os.ReadFile("../fixtures/store-v1/identity.txt")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(idText))
	if err != nil {
		t.Fatal(err)
	}
	ct, err := os.ReadFile(filepath.Join("../fixtures/store-v1", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, ct, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := store.Open(p, store.Options{Identities: ids})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := testkit.Decrypt(ct, ids...)
	if err != nil {
		t.Fatal(err)
	}
	return f, plain
}

// TestRestoreFixtures restores the plaintext of every fixture store into
// a new store and checks that the new store holds exactly what the
// fixture holds.
func TestRestoreFixtures(t *testing.T) {
	names, _ := filepath.Glob("../fixtures/store-v1/*.age")
	if len(names) == 0 {
		t.Fatal("no fixture stores in ../fixtures/store-v1")
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			orig, plain := openFixture(t, filepath.Base(name))
			want := storetest.Contents(t, orig)
			doc, err := ParseStoreDocument(bytes.NewReader(plain))
			if err != nil {
				t.Fatal(err)
			}
			f, _ := storetest.NewFile(t)
			if err := Restore(ctx, f, doc); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, storetest.Contents(t, f)); diff != "" {
				t.Errorf("restored store differs (-fixture +restored):\n%s", diff)
			}
			if len(want) < 8 || doc.Version != 1 || len(doc.Recipients) != 1 {
				t.Errorf("fixture: %d entries, version %d, %d recipients: not the fixture documented", len(want), doc.Version, len(doc.Recipients))
			}
		})
	}
}

// TestRestoreRefusesNonEmpty: a store holding any entry, a reserved key
// included, is refused and not written.
func TestRestoreRefusesNonEmpty(t *testing.T) {
	f, _ := storetest.NewFile(t)
	if err := f.Set(ctx, "__hush_app_X", []byte("x")); err != nil {
		t.Fatal(err)
	}
	before := stateOf(t, f.Path())
	doc := &StoreDocument{Version: 1, Entries: []StoreEntry{{Name: "A", Value: []byte("a")}}}
	if err := Restore(ctx, f, doc); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("restore into a store with a reserved key: %v, want ErrNotEmpty", err)
	}
	before.unchanged(t, f.Path())
}

// TestRestoreAllOrNothing: an entry the store refuses, after others it
// took, leaves the store as it was.
func TestRestoreAllOrNothing(t *testing.T) {
	for _, bad := range []StoreEntry{
		{Name: "BAD NAME", Value: []byte("b")},
		{Name: "BIG", Value: make([]byte, store.MaxValueLen+1)},
	} {
		f, _ := storetest.NewFile(t)
		before := stateOf(t, f.Path())
		doc := &StoreDocument{Version: 1, Entries: []StoreEntry{{Name: "A", Value: []byte("a"), Description: "d"}, bad}}
		if err := Restore(ctx, f, doc); err == nil {
			t.Fatalf("restore with %s: no error", bad.Name)
		}
		before.unchanged(t, f.Path())
	}
}

// TestParseStoreDocumentRefusals checks each malformed document is a
// *ParseError that does not show the value.
func TestParseStoreDocumentRefusals(t *testing.T) {
	const canary = "CANARY-c4n4ry"
	entry := func(body string) string {
		return `{"version":1,"recipients":["age1x"],"entries":{"K":` + body + `}}`
	}
	cases := map[string]string{
		"empty":                "",
		"not an object":        `["` + canary + `"]`,
		"no version":           `{"entries":{"K":{"value":"` + canary + `"}}}`,
		"version zero":         `{"version":0,"entries":{}}`,
		"version fraction":     `{"version":1.5,"entries":{}}`,
		"newer version":        `{"version":2,"entries":{}}`,
		"version as text":      `{"version":"1","entries":{}}`,
		"unknown field":        `{"version":1,"extra":1}`,
		"field in other case":  `{"Version":1}`,
		"version twice":        `{"version":1,"version":1}`,
		"trailing data":        `{"version":1,"entries":{}} {}`,
		"trailing garbage":     `{"version":1,"entries":{}}x`,
		"truncated":            `{"version":1,"entries":{"K":{"value":"` + canary,
		"entries array":        `{"version":1,"entries":["` + canary + `"]}`,
		"recipient number":     `{"version":1,"recipients":[1]}`,
		"name twice":           `{"version":1,"entries":{"K":{"value":"` + canary + `"},"K":{"value":"x"}}}`,
		"name twice, escaped":  `{"version":1,"entries":{"K":{"value":"` + canary + `"},"\u004b":{"value":"x"}}}`,
		"invalid name":         `{"version":1,"entries":{"A B":{"value":"` + canary + `"}}}`,
		"empty name":           `{"version":1,"entries":{"":{"value":"` + canary + `"}}}`,
		"no value":             entry(`{"description":"d"}`),
		"value null":           entry(`{"value":null}`),
		"value number":         entry(`{"value":12}`),
		"value twice":          entry(`{"value":"` + canary + `","value":"x"}`),
		"value in other case":  entry(`{"Value":"` + canary + `"}`),
		"unknown entry field":  entry(`{"value":"` + canary + `","secret":"x"}`),
		"unknown encoding":     entry(`{"value":"` + canary + `","encoding":"hex"}`),
		"bad base64":           entry(`{"value":"` + canary + `!","encoding":"base64"}`),
		"bad created":          entry(`{"value":"` + canary + `","created":"yesterday"}`),
		"bad updated":          entry(`{"value":"` + canary + `","updated":"2024-13-01T00:00:00Z"}`),
		"description number":   entry(`{"value":"` + canary + `","description":1}`),
		"invalid UTF-8":        entry(`{"value":"` + canary + "\xff" + `"}`),
		"entry not an object":  entry(`"` + canary + `"`),
		"encrypted file given": "age-encryption.org/v1\n-> X25519 abc\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			doc, err := ParseStoreDocument(strings.NewReader(in))
			var pe *ParseError
			if !errors.As(err, &pe) || doc != nil {
				t.Fatalf("got %v, %v; want a *ParseError", doc, err)
			}
			if strings.Contains(err.Error(), "c4n4ry") {
				t.Errorf("the error shows the value: %v", err)
			}
		})
	}
	big := entry(`{"value":"` + strings.Repeat("a", store.MaxValueLen+1) + `"}`)
	if _, err := ParseStoreDocument(strings.NewReader(big)); !errors.Is(err, store.ErrLimit) {
		t.Errorf("a value over the limit: %v, want ErrLimit", err)
	}
}

// TestParseStoreDocumentLenient: what the store's own reader accepts
// (null lists, no times, a timestamp with an offset, unsorted names) is
// accepted, and the entries come back sorted with the times in UTC.
func TestParseStoreDocumentLenient(t *testing.T) {
	in := `{"version":1,"recipients":null,"entries":{"B":{"value":"aGk=","encoding":"base64"},` +
		`"A":{"value":"x","description":"","created":"2024-01-02T03:04:05+02:00","updated":"2024-01-02T01:04:05.5Z"}}}`
	doc, err := ParseStoreDocument(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &StoreDocument{Version: 1, Entries: []StoreEntry{
		{Name: "A", Value: []byte("x"), Created: time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC), Updated: time.Date(2024, 1, 2, 1, 4, 5, 5e8, time.UTC)},
		{Name: "B", Value: []byte("hi")},
	}}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParseStoreDocument(strings.NewReader(`{"version":1,"entries":null}`)); err != nil {
		t.Errorf("null entries: %v", err)
	}
}

// FuzzParseStoreDocument: any input either fails with a *ParseError (or
// ErrLimit) or gives sorted, unique, valid entries that a store takes as
// they are. Seeds: the plaintext of every fixture store.
func FuzzParseStoreDocument(f *testing.F) {
	names, _ := filepath.Glob("../fixtures/store-v1/*.age")
	if len(names) == 0 {
		f.Fatal("no fixture stores to seed from")
	}
	for _, name := range names {
		_, plain := openFixture(f, filepath.Base(name))
		f.Add(plain)
	}
	f.Add([]byte(`{"version":1,"entries":null}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		doc, err := ParseStoreDocument(bytes.NewReader(in))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) && !errors.Is(err, store.ErrLimit) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for i, e := range doc.Entries {
			if err := store.ValidateName(e.Name); err != nil {
				t.Fatalf("entry %q: %v", e.Name, err)
			}
			if i > 0 && doc.Entries[i-1].Name >= e.Name {
				t.Fatalf("entries not sorted and unique: %q then %q", doc.Entries[i-1].Name, e.Name)
			}
		}
		m := store.NewMemory()
		if err := Restore(ctx, m, doc); err != nil {
			t.Fatalf("restore of a parsed document: %v", err)
		}
		for _, e := range doc.Entries {
			if v, err := m.Get(ctx, e.Name); err != nil || !bytes.Equal(v, e.Value) {
				t.Fatalf("entry %q: got %q, %v", e.Name, v, err)
			}
		}
	})
}
