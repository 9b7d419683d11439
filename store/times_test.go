package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
)

// TestSetTimes checks that the times SetTimes gives survive a write and a
// fresh read of the file, to the nanosecond and in UTC.
func TestSetTimes(t *testing.T) {
	ctx := context.Background()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Identities: []age.Identity{id}}
	p := filepath.Join(t.TempDir(), "store.age")
	f, err := Create(ctx, p, []string{id.Recipient().String()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	zone := time.FixedZone("x", -7*3600)
	created := time.Date(2021, 2, 3, 4, 5, 6, 7, zone)
	updated := time.Date(2022, 3, 4, 5, 6, 7, 123456789, time.UTC)
	err = f.Update(ctx, func(tx Tx) error {
		if err := tx.Set("K", []byte("v")); err != nil {
			return err
		}
		return SetTimes(tx, "K", created, updated)
	})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := Open(p, opts) // a new File: nothing cached
	if err != nil {
		t.Fatal(err)
	}
	es, err := fresh.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || !es[0].Created.Equal(created) || !es[0].Updated.Equal(updated) ||
		es[0].Created.Location() != time.UTC {
		t.Fatalf("entries after SetTimes: %+v, want created %v and updated %v in UTC", es, created, updated)
	}
}

// TestSetTimesRefusals: an absent name is ErrNotFound and nothing is
// written; a Tx that is not the store's own is ErrNoBatch.
func TestSetTimesRefusals(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	err := m.Update(ctx, func(tx Tx) error { return SetTimes(tx, "ABSENT", time.Now(), time.Now()) })
	var ke *KeyError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &ke) || ke.Name != "ABSENT" {
		t.Errorf("SetTimes of an absent name: %v, want a *KeyError wrapping ErrNotFound", err)
	}
	if m.Writes() != 0 {
		t.Errorf("a failed batch wrote the store %d times", m.Writes())
	}
	plain := struct{ Provider }{m} // hides Update: store.Update forwards call by call
	err = Update(ctx, plain, func(tx Tx) error { return SetTimes(tx, "K", time.Now(), time.Now()) })
	if !errors.Is(err, ErrNoBatch) {
		t.Errorf("SetTimes on a forwarding Tx: %v, want ErrNoBatch", err)
	}
}
