package store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

func newID(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// fillStore gives f a text value with a description, a binary value and a
// value with a trailing newline.
func fillStore(t *testing.T, f *store.File) {
	t.Helper()
	ctx := context.Background()
	err := f.Update(ctx, func(tx store.Tx) error {
		if err := tx.Set("API_TOKEN", []byte("tok-123")); err != nil {
			return err
		}
		if err := tx.SetDescription("API_TOKEN", "the api token"); err != nil {
			return err
		}
		if err := tx.Set("BLOB", []byte{0, 0xff, 0xfe, 'x', 0}); err != nil {
			return err
		}
		return tx.Set("NL", []byte("line\n"))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ignoreKey leaves the store key and rotation proofs out of comparisons
// of snapshots; integrity_test.go checks them.
var ignoreKey = cmpopts.IgnoreUnexported(store.Snapshot{})

func TestSnapshotRoundTrip(t *testing.T) {
	ctx := context.Background()
	f, alice := storetest.NewFile(t)
	fillStore(t, f)
	snap, err := f.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := snap.Names(), []string{"API_TOKEN", "BLOB", "NL"}; !cmp.Equal(got, want) {
		t.Fatalf("names %v, want %v", got, want)
	}
	if e := snap.Entries["BLOB"]; !bytes.Equal(e.Value, []byte{0, 0xff, 0xfe, 'x', 0}) {
		t.Fatalf("binary value did not round-trip")
	}
	if snap.Armored {
		t.Fatal("binary store reported as armored")
	}

	// Write it elsewhere, encrypted to alice and bob, armored.
	bob := newID(t)
	snap.Recipients = append(snap.Recipients, bob.Recipient().String())
	snap.Armored = true
	p := filepath.Join(t.TempDir(), "sub", "copy.age")
	if err := store.WriteSnapshot(ctx, p, snap, store.Options{}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(p)
	if !bytes.HasPrefix(raw, []byte(armor.Header)) {
		t.Error("armored snapshot written without armor")
	}
	wantList, _ := f.List(ctx)
	for _, id := range []*age.X25519Identity{alice, bob} {
		g, err := store.Open(p, store.Options{Identities: []age.Identity{id}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := g.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(snap, got, ignoreKey); diff != "" {
			t.Errorf("reread snapshot differs (-want +got):\n%s", diff)
		}
		list, _ := g.List(ctx)
		if diff := cmp.Diff(wantList, list); diff != "" {
			t.Errorf("metadata not preserved (-want +got):\n%s", diff)
		}
	}
	// A stock age decrypt opens it too.
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(raw)), bob)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(r)
	if !bytes.Contains(plain, []byte(`"version":1`)) {
		t.Error("plaintext is not a version 1 document")
	}
}

func TestDecryptSnapshot(t *testing.T) {
	ctx := context.Background()
	f, alice := storetest.NewFile(t)
	fillStore(t, f)
	raw, err := os.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	snap, err := store.DecryptSnapshot(raw, []age.Identity{alice})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := f.Snapshot(ctx)
	if diff := cmp.Diff(want, snap, ignoreKey); diff != "" {
		t.Errorf("(-file +bytes):\n%s", diff)
	}

	if _, err := store.DecryptSnapshot(raw, []age.Identity{newID(t)}); !errors.Is(err, store.ErrDecrypt) {
		t.Errorf("wrong identity: %v, want ErrDecrypt", err)
	}
	if _, err := store.DecryptSnapshot(nil, []age.Identity{alice}); !errors.Is(err, store.ErrNoStore) {
		t.Errorf("empty: %v, want ErrNoStore", err)
	}
	bad := bytes.Clone(raw)
	bad[len(bad)-3] ^= 1
	if _, err := store.DecryptSnapshot(bad, []age.Identity{alice}); !errors.Is(err, store.ErrDecrypt) {
		t.Errorf("flipped bit: %v, want ErrDecrypt", err)
	}
	// An age file whose plaintext is not a store document.
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, alice.Recipient())
	io.WriteString(w, "not json")
	w.Close()
	if _, err := store.DecryptSnapshot(buf.Bytes(), []age.Identity{alice}); !errors.Is(err, store.ErrDecrypt) {
		t.Errorf("foreign age file: %v, want ErrDecrypt", err)
	}
}

func TestWriteSnapshotRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	f, alice := storetest.NewFile(t)
	fillStore(t, f)
	before, _ := os.ReadFile(f.Path())
	rec := []string{alice.Recipient().String()}
	cases := []struct {
		name string
		snap *store.Snapshot
		is   error
	}{
		{"bad name", &store.Snapshot{Recipients: rec, Entries: map[string]store.SnapshotEntry{"A B": {Value: []byte("v")}}}, store.ErrInvalidName},
		{"big value", &store.Snapshot{Recipients: rec, Entries: map[string]store.SnapshotEntry{"A": {Value: make([]byte, store.MaxValueLen+1)}}}, store.ErrLimit},
		{"bad recipient", &store.Snapshot{Recipients: []string{"age1nope"}}, store.ErrInvalidRecipient},
		{"no recipients", &store.Snapshot{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := store.WriteSnapshot(ctx, f.Path(), c.snap, store.Options{})
			if err == nil || (c.is != nil && !errors.Is(err, c.is)) {
				t.Fatalf("err = %v, want %v", err, c.is)
			}
			if strings.Contains(err.Error(), "tok-123") {
				t.Fatal("error holds a value")
			}
			after, _ := os.ReadFile(f.Path())
			if !bytes.Equal(before, after) {
				t.Fatal("store changed after a refused write")
			}
		})
	}
}

// TestWriteSnapshotTakesLock shows WriteSnapshot serialises with other
// writers: while an Update holds the lock it times out.
func TestWriteSnapshotTakesLock(t *testing.T) {
	ctx := context.Background()
	f, alice := storetest.NewFile(t)
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- f.Update(ctx, func(tx store.Tx) error {
			close(held)
			<-release
			return tx.Set("X", []byte("1"))
		})
	}()
	<-held
	snap := &store.Snapshot{Recipients: []string{alice.Recipient().String()}}
	err := store.WriteSnapshot(ctx, f.Path(), snap, store.Options{LockTimeout: 50 * time.Millisecond})
	close(release)
	if !errors.Is(err, store.ErrLockTimeout) {
		t.Fatalf("err = %v, want ErrLockTimeout", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, err := f.Get(ctx, "X"); err != nil || string(v) != "1" {
		t.Fatalf("Get X = %q, %v", v, err)
	}
}

func TestEncryptSnapshotArmor(t *testing.T) {
	alice := newID(t)
	snap := &store.Snapshot{Recipients: []string{alice.Recipient().String()},
		Entries: map[string]store.SnapshotEntry{"K": {Value: []byte("v"), Description: "d"}}}
	for _, armored := range []bool{false, true} {
		snap.Armored = armored
		b, err := store.EncryptSnapshot(snap, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.HasPrefix(b, []byte(armor.Header)); got != armored {
			t.Errorf("armored=%v: header present %v", armored, got)
		}
		back, err := store.DecryptSnapshot(b, []age.Identity{alice})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(snap, back, ignoreKey); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}
