package gitstore

import (
	"context"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// TestFingerprintKeyName pins the stored name of the fingerprint key:
// stores shared in git since `hush git setup` first wrote one hold it
// under exactly this key, so a change would orphan their keys (every
// diff would show a key change and setup would add a second one).
func TestFingerprintKeyName(t *testing.T) {
	const stored = "__hush_git_fingerprint-key"
	if FingerprintKeyName != stored {
		t.Fatalf("FingerprintKeyName = %q, want %q (the name existing stores hold)", FingerprintKeyName, stored)
	}
	if sc, name, ok := scope.Split(FingerprintKeyName); !ok || sc != "git" || name != "fingerprint-key" {
		t.Errorf("scope.Split(%q) = %q, %q, %v; want the reserved scope git", FingerprintKeyName, sc, name, ok)
	}
}

// TestFingerprintKeyOfExistingStore checks that a store written with the
// key under its stored name, as earlier versions wrote it, is recognised:
// setup adds no second key and textconv fingerprints with it.
func TestFingerprintKeyOfExistingStore(t *testing.T) {
	ctx := context.Background()
	id, _ := age.GenerateX25519Identity()
	rs := []string{id.Recipient().String()}
	path := t.TempDir() + "/store.age"
	s := snap(rs, "__hush_git_fingerprint-key", ent("k-old", 0), "API", ent(canary, 1))
	if err := store.WriteSnapshot(ctx, path, s, store.Options{}); err != nil {
		t.Fatal(err)
	}
	f, err := store.Open(path, store.Options{Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	if added, err := EnsureFingerprintKey(ctx, f); err != nil || added {
		t.Fatalf("EnsureFingerprintKey on a store that has a key: added %v, %v", added, err)
	}
	out := textconv(t, encrypt(t, s), id, false)
	if want := "secret API fp:" + Fingerprint([]byte("k-old"), "API", []byte(canary)); !strings.Contains(out, want) {
		t.Errorf("textconv does not use the stored key: want %q in\n%s", want, out)
	}
}
