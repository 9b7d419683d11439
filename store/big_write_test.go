package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/internal/testkit"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/internal/format"
)

// bigEntries is the size of the store TestBigStoreRoundTrip works on: the
// largest of the issue 21 benchmarks.
const bigEntries = 100_000

// A 100,000-entry store goes through import (one write), set, rm, mv and
// an export imported into another store, each through a fresh *store.File
// as the CLI opens it (with the integrity check's state directory). After
// each write the whole plaintext is exactly what the encoder of every
// entry (format.EncodeWith, the encoder hush has always had) writes for
// the entries expected: a write copies the entries it does not change
// from the plaintext it read, and that copy must never differ from
// encoding them again, or lose, reorder or duplicate one. It is not timed
// (the benchmarks are: BenchmarkWrite, make bench-cli).
func TestBigStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 60000000, time.UTC)
	opts := store.Options{Identities: []age.Identity{id}, StateDir: t.TempDir(), Now: func() time.Time { return now }}
	path := t.TempDir() + "/store.age"
	if _, err := store.Create(ctx, path, []string{id.Recipient().String()}, opts); err != nil {
		t.Fatal(err)
	}
	open := func() *store.File {
		f, err := store.Open(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}

	// The model: every entry as the encoder takes it, sorted by name (so
	// that EncodeWith's sort costs little).
	var model []*format.Record
	find := func(name string) (int, bool) {
		return slices.BinarySearchFunc(model, name, func(r *format.Record, n string) int { return strings.Compare(r.Name, n) })
	}
	get := func(name string) *format.Record {
		i, ok := find(name)
		if !ok {
			t.Fatalf("%s is not in the model", name)
		}
		return model[i]
	}
	put := func(r *format.Record) {
		if i, ok := find(r.Name); ok {
			model[i] = r
		} else {
			model = slices.Insert(model, i, r)
		}
	}
	del := func(name string) {
		if i, ok := find(name); ok {
			model = slices.Delete(model, i, i+1)
		}
	}
	record := func(name string, value []byte, desc string, created time.Time) *format.Record {
		v, enc := format.EncodeValue(value)
		return &format.Record{Name: name, Value: v, Encoding: enc, Description: desc, Created: created, Updated: now}
	}
	secrets := make([]formats.Secret, bigEntries)
	for i := range secrets {
		s := formats.Secret{Name: fmt.Sprintf("SECRET_%06d", i), Value: []byte(fmt.Sprintf("%032x", i*7919))}
		switch i % 1000 {
		case 1: // not UTF-8: stored as base64
			s.Value = []byte{0xff, byte(i), 0, '"'}
		case 2: // escapes
			s.Value = []byte("line\nquote\" back\\slash \x01 \u2028 é")
		case 3:
			s.Name = fmt.Sprintf("ünï/%06d", i)
		}
		secrets[i] = s
		model = append(model, record(s.Name, s.Value, "", now))
	}
	slices.SortFunc(model, func(a, b *format.Record) int { return strings.Compare(a.Name, b.Name) })
	check := func(when string) {
		t.Helper()
		ct, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := testkit.Decrypt(ct, id)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		d, err := format.Decode(plain)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		want := format.EncodeWith(format.Version, []string{id.Recipient().String()}, d.Integrity, slices.Clone(model))
		if !bytes.Equal(plain, want) {
			i := 0
			for i < min(len(plain), len(want)) && plain[i] == want[i] {
				i++
			}
			t.Fatalf("%s: the plaintext (%d bytes) differs from the encoding of the entries (%d bytes) at byte %d", when, len(plain), len(want), i)
		}
	}

	if _, err := formats.Import(ctx, open(), secrets, formats.ImportFail); err != nil {
		t.Fatal(err)
	}
	check("import")

	now = now.Add(time.Second)
	if err := open().Set(ctx, "SECRET_050000", []byte("changed")); err != nil {
		t.Fatal(err)
	}
	put(record("SECRET_050000", []byte("changed"), "", get("SECRET_050000").Created))
	err = open().Update(ctx, func(tx store.Tx) error {
		if err := tx.Set("SECRET_050000a", []byte("new")); err != nil {
			return err
		}
		return tx.SetDescription("SECRET_000000", "first")
	})
	if err != nil {
		t.Fatal(err)
	}
	put(record("SECRET_050000a", []byte("new"), "", now))
	get("SECRET_000000").Description, get("SECRET_000000").Updated = "first", now
	check("set")

	rm := []string{"SECRET_000001", "SECRET_099999", "SECRET_050000a"}
	for i := 10; i < 100_000; i += 97 {
		rm = append(rm, fmt.Sprintf("SECRET_%06d", i))
	}
	if err := open().DeleteMany(ctx, rm); err != nil {
		t.Fatal(err)
	}
	for _, n := range rm {
		del(n)
	}
	check("rm")

	now = now.Add(time.Second)
	err = open().Update(ctx, func(tx store.Tx) error {
		for _, mv := range [][2]string{{"SECRET_000000", "MOVED_0"}, {"SECRET_000002", "zz_last"}, {"SECRET_050001", "SECRET_050000a"}} {
			v, err := tx.Get(mv[0])
			if err != nil {
				return err
			}
			e, err := tx.Lookup(mv[0])
			if err != nil {
				return err
			}
			if err := tx.Set(mv[1], v); err != nil {
				return err
			}
			if err := tx.SetDescription(mv[1], e.Description); err != nil {
				return err
			}
			if err := tx.Delete(mv[0]); err != nil {
				return err
			}
			old := get(mv[0])
			del(mv[0])
			put(&format.Record{Name: mv[1], Value: old.Value, Encoding: old.Encoding, Description: old.Description, Created: now, Updated: now})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check("mv")

	// Export everything and import it into an empty store: the same
	// entries, values byte for byte.
	snap, err := open().Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []formats.Secret
	for _, n := range snap.Names() {
		out = append(out, formats.Secret{Name: n, Value: snap.Entries[n].Value})
	}
	path = t.TempDir() + "/again.age"
	if _, err := store.Create(ctx, path, []string{id.Recipient().String()}, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := formats.Import(ctx, open(), out, formats.ImportFail); err != nil {
		t.Fatal(err)
	}
	for _, r := range model {
		r.Description, r.Created, r.Updated = "", now, now
	}
	check("export and import")
}
