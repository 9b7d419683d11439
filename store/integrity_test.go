package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// member is one client of a store: an identity and its own accepted state.
type member struct {
	id    *age.X25519Identity
	state string
}

func newMember(t *testing.T) member {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return member{id: id, state: filepath.Join(t.TempDir(), "state")}
}

func (m member) opts() Options {
	return Options{Identities: []age.Identity{m.id}, StateDir: m.state}
}

func (m member) open(t *testing.T, path string) *File {
	t.Helper()
	f, err := Open(path, Options{Identities: []age.Identity{m.id}, StateDir: m.state})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// forge writes at path a store encrypted to recipients, as anyone who
// knows their public keys can, with the given store key and proofs.
func forge(t *testing.T, path string, recipients []string, key []byte, proofs [][]byte) {
	t.Helper()
	d := newDocument(recipients)
	d.key, d.rotations = key, proofs
	d.all()["BASH_ENV"] = newEntry("BASH_ENV", []byte("/tmp/evil.sh"))
	b, err := newFile(path, Options{}).encrypt(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func newTeamStore(t *testing.T, ms ...member) (string, []string) {
	t.Helper()
	ctx := context.Background()
	var rs []string
	for _, m := range ms {
		rs = append(rs, m.id.Recipient().String())
	}
	path := filepath.Join(t.TempDir(), "store.age")
	f, err := Create(ctx, path, rs, Options{Identities: []age.Identity{ms[0].id}, StateDir: ms[0].state})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(ctx, "API_KEY", []byte("s3cret")); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[1:] {
		if _, err := m.open(t, path).Get(ctx, "API_KEY"); err != nil {
			t.Fatal(err) // first read: trusted and recorded
		}
	}
	return path, rs
}

func wantUntrusted(t *testing.T, err error, path string) {
	t.Helper()
	var ie *IntegrityError
	if !errors.Is(err, ErrUntrusted) || !errors.As(err, &ie) || ie.Path != path || ie.Superseded {
		t.Fatalf("err = %v; want an *IntegrityError for %s", err, path)
	}
}

func TestForgedStoreIsRefused(t *testing.T) {
	ctx := context.Background()
	alice := newMember(t)
	path, rs := newTeamStore(t, alice)
	for name, key := range map[string][]byte{"a new key": newStoreKey(), "no key": nil} {
		forge(t, path, rs, key, nil)
		f := alice.open(t, path)
		_, err := f.Get(ctx, "BASH_ENV")
		wantUntrusted(t, err, path)
		if _, err := f.List(ctx); !errors.Is(err, ErrUntrusted) {
			t.Errorf("%s: List = %v", name, err)
		}
		if err := f.Set(ctx, "X", []byte("v")); !errors.Is(err, ErrUntrusted) {
			t.Errorf("%s: Set = %v", name, err)
		}
	}
	// Without a state directory there is no check.
	f, _ := Open(path, Options{Identities: []age.Identity{alice.id}})
	if _, err := f.Get(ctx, "BASH_ENV"); err != nil {
		t.Fatal(err)
	}
}

// A forger who knows an old key (a removed member) cannot make a proof
// from the key that replaced it.
func TestRemovedMemberCannotForge(t *testing.T) {
	ctx := context.Background()
	alice, mallory := newMember(t), newMember(t)
	path, rs := newTeamStore(t, alice, mallory)
	old := mallory.open(t, path)
	d, err := old.load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oldKey := d.key
	if err := alice.open(t, path).RemoveRecipients(ctx, rs[1:], false); err != nil {
		t.Fatal(err)
	}
	k := newStoreKey()
	forged := [][]byte{rotationProof(hashKey(oldKey), hashKey(k))}
	// The old key itself, a key with a proof from the old one, and a
	// proof that is made up.
	fake := rotationProof(hashKey(newStoreKey()), hashKey(k))
	for _, c := range []struct {
		key    []byte
		proofs [][]byte
	}{{oldKey, nil}, {k, forged}, {k, [][]byte{fake}}} {
		forge(t, path, rs, c.key, c.proofs)
		_, err := alice.open(t, path).Get(ctx, "BASH_ENV")
		if !errors.Is(err, ErrUntrusted) {
			t.Fatalf("a forgery by the removed member: %v", err)
		}
	}
}

// Writes, recipient changes and rotations by one member, however many,
// never trip another member's check.
func TestMembersNeverTripTheCheck(t *testing.T) {
	ctx := context.Background()
	alice, bob, carol := newMember(t), newMember(t), newMember(t)
	path, rs := newTeamStore(t, alice, bob)
	a := alice.open(t, path)
	for i, step := range []func() error{
		func() error { return a.Set(ctx, "K", []byte("1")) },
		func() error { return a.AddRecipients(ctx, []string{carol.id.Recipient().String()}) },
		func() error { return a.Rekey(ctx) },
		func() error { return a.RemoveRecipients(ctx, []string{carol.id.Recipient().String()}, false) },
		func() error { return a.Rekey(ctx) },
		func() error { return a.Delete(ctx, "K") },
	} {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if _, err := bob.open(t, path).Get(ctx, "API_KEY"); err != nil {
		t.Fatalf("bob, three rotations behind: %v", err)
	}
	if err := bob.open(t, path).Set(ctx, "B", []byte("b")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "B"); err != nil {
		t.Fatalf("alice after bob's write: %v", err)
	}
	_ = rs
}

// A version from before a rotation that this client read before, put
// back, is read with a warning and never written (SPEC: superseded); a
// version under the old key that this client never read (a member removed
// by that rotation knows the old key and could have forged it) is refused
// for reads and writes. Nothing is written.
func TestReplayIsSuperseded(t *testing.T) {
	ctx := context.Background()
	alice, mallory := newMember(t), newMember(t)
	path, rs := newTeamStore(t, alice, mallory)
	before, _ := os.ReadFile(path)
	if err := alice.open(t, path).RemoveRecipients(ctx, rs[1:], false); err != nil {
		t.Fatal(err)
	}
	// mallory writes under the old key from her copy: a version alice
	// never read.
	old, _, err := decryptDocument(before, mallory.opts().Identities)
	if err != nil {
		t.Fatal(err)
	}
	forged := old.clone()
	forged.all()["BASH_ENV"] = newEntry("BASH_ENV", []byte("pwned"))
	g := newFile(path, Options{})
	unseen, err := g.encrypt(forged)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		file []byte
		seen bool
	}{{"seen", before, true}, {"unseen", unseen, false}} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, tc.file, 0o600); err != nil {
				t.Fatal(err)
			}
			var warned []string
			opts := alice.opts()
			opts.Warn = func(m string) { warned = append(warned, m) }
			f := mustOpen(t, path, opts)
			var ie *IntegrityError
			_, err := f.Get(ctx, "API_KEY")
			switch {
			case tc.seen && (err != nil || len(warned) != 1 || !strings.Contains(warned[0], "superseded")):
				t.Fatalf("reading a superseded version read before: %v, warned %q", err, warned)
			case !tc.seen && (!errors.As(err, &ie) || !ie.Superseded || ie.Seen):
				t.Fatalf("reading an unseen version under the old key: %v", err)
			}
			for _, op := range []func() error{
				func() error { return f.Set(ctx, "NEW", []byte("v")) },
				func() error { return f.AddRecipients(ctx, rs[1:]) },
				func() error { return f.Rekey(ctx) },
			} {
				if err := op(); !errors.Is(err, ErrUntrusted) || !errors.As(err, &ie) || !ie.Superseded {
					t.Fatalf("writing the superseded version: %v", err)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, tc.file) {
				t.Fatal("the superseded version was written")
			}
		})
	}
}

// A store from before store keys is trusted on first read, gets a key on
// first write, and is checked from then on. The state file holds no key
// and no value.
func TestLegacyStoreUpgrades(t *testing.T) {
	ctx := context.Background()
	alice := newMember(t)
	path := filepath.Join(t.TempDir(), "store.age")
	rs := []string{alice.id.Recipient().String()}
	forge(t, path, rs, nil, nil)
	f := alice.open(t, path)
	if _, err := f.Get(ctx, "BASH_ENV"); err != nil {
		t.Fatal(err)
	}
	if err := f.Set(ctx, "K", []byte("TOPSECRET")); err != nil {
		t.Fatal(err)
	}
	d, _ := f.load(ctx)
	if d.key == nil {
		t.Fatal("the first write added no store key")
	}
	sp, _ := f.statePath()
	st, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(d.key)
	if !strings.Contains(string(st), "key "+hex.EncodeToString(h[:])) {
		t.Errorf("the state does not record H(key):\n%s", st)
	}
	if bytes.Contains(st, []byte(hex.EncodeToString(d.key))) || bytes.Contains(st, []byte("TOPSECRET")) {
		t.Error("the state holds the key or a value")
	}
	for p, want := range map[string]os.FileMode{sp: 0o600, alice.state: 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want %o", p, fi.Mode(), err, want)
		}
	}
	forge(t, path, rs, nil, nil)
	_, err = alice.open(t, path).Get(ctx, "K")
	wantUntrusted(t, err, path)
}

func TestTrustAcceptsDeliberately(t *testing.T) {
	ctx := context.Background()
	alice := newMember(t)
	path, rs := newTeamStore(t, alice)
	forge(t, path, rs, newStoreKey(), nil)
	f := alice.open(t, path)
	before, now, err := f.Trust(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before == nil || strings.Join(before.Names, ",") != "API_KEY" || strings.Join(now.Names, ",") != "BASH_ENV" {
		t.Fatalf("before %+v, now %+v", before, now)
	}
	if _, err := alice.open(t, path).Get(ctx, "BASH_ENV"); err != nil {
		t.Fatal(err)
	}
}

// Two sides that rotated apart merge into a store that readers of either
// side, and of the version before both, accept.
func TestMergeIntegrity(t *testing.T) {
	ctx := context.Background()
	alice, bob, carol := newMember(t), newMember(t), newMember(t)
	path, _ := newTeamStore(t, alice, bob, carol)
	snap := func(m member) *Snapshot {
		s, err := m.open(t, path).Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base, _ := os.ReadFile(path)
	if err := alice.open(t, path).Rekey(ctx); err != nil {
		t.Fatal(err)
	}
	ours := snap(alice)
	os.WriteFile(path, base, 0o600)
	if err := bob.open(t, path).Rekey(ctx); err != nil {
		t.Fatal(err)
	}
	theirs := snap(bob)
	merged := &Snapshot{Recipients: ours.Recipients, Entries: ours.Entries}
	MergeIntegrity(merged, ours, theirs)
	again := &Snapshot{}
	MergeIntegrity(again, theirs, ours)
	if !bytes.Equal(merged.key, again.key) {
		t.Error("the merged key depends on the order of the sides")
	}
	if err := WriteSnapshot(ctx, path, merged, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []member{alice, bob, carol} {
		if _, err := m.open(t, path).Get(ctx, "API_KEY"); err != nil {
			t.Fatalf("a member after the merge: %v", err)
		}
	}
}

// Every fixture store (written before store keys) opens with the check
// on, gets a key on its first write, and is checked from then on.
func TestFixturesGetAKey(t *testing.T) {
	ctx := context.Background()
	for _, s := range fixtureStores {
		t.Run(s.file, func(t *testing.T) {
			p, idPath := copyFixture(t, s.file)
			ids, err := ParseIdentities(idPath, mustReadFile(t, idPath), IdentityOptions{})
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{Identities: ids, StateDir: filepath.Join(t.TempDir(), "state")}
			f := mustOpen(t, p, opts)
			if d, err := f.load(ctx); err != nil || d.key != nil {
				t.Fatalf("load = %v (key %v); want a fixture without a key", err, d != nil && d.key != nil)
			}
			if err := f.Set(ctx, "NEW", []byte("v")); err != nil {
				t.Fatal(err)
			}
			if d, err := mustOpen(t, p, opts).load(ctx); err != nil || d.key == nil {
				t.Fatalf("after a write: %v; want a store key", err)
			}
			orig, _ := os.ReadFile(filepath.Join(fixtureDir, s.file))
			mustWriteFile(t, p, orig, 0o600)
			// Read here before: readable, never written.
			if _, err := mustOpen(t, p, opts).Get(ctx, "API_TOKEN"); err != nil {
				t.Fatalf("the keyless fixture read before, after an upgrade: %v", err)
			}
			if err := mustOpen(t, p, opts).Set(ctx, "NEW2", []byte("v")); !errors.Is(err, ErrUntrusted) {
				t.Fatalf("writing the keyless fixture after an upgrade: %v; want ErrUntrusted", err)
			}
			// Never read here: refused.
			d, armored, err := decryptDocument(orig, ids)
			if err != nil {
				t.Fatal(err)
			}
			g := newFile("", Options{})
			g.armored = armored
			unseen, err := g.encrypt(d)
			if err != nil || d.key != nil {
				t.Fatal(err)
			}
			mustWriteFile(t, p, unseen, 0o600)
			if _, err := mustOpen(t, p, opts).Get(ctx, "API_TOKEN"); !errors.Is(err, ErrUntrusted) {
				t.Fatalf("an unseen keyless version after an upgrade: %v; want ErrUntrusted", err)
			}
		})
	}
}

// hush trust keeps the versions seen before: one put back afterwards is
// still read (superseded), not refused as unknown.
func TestTrustKeepsSeenVersions(t *testing.T) {
	ctx := context.Background()
	alice, bob := newMember(t), newMember(t)
	path, rs := newTeamStore(t, alice, bob)
	if _, err := alice.open(t, path).Get(ctx, "API_KEY"); err != nil {
		t.Fatal(err)
	}
	v1, _ := os.ReadFile(path)
	// bob, another member, makes a version alice cannot link to v1 (a
	// store of his own at the same path): alice trusts it deliberately
	os.Remove(path)
	if _, err := Create(ctx, path, rs, Options{StateDir: bob.state}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.open(t, path).List(ctx); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("a new store at the path: %v", err)
	}
	if _, _, err := alice.open(t, path).Trust(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, v1, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.open(t, path).Get(ctx, "API_KEY"); err != nil {
		t.Fatalf("a version seen before trust: %v", err)
	}
}
