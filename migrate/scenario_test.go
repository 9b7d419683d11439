package migrate

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

// scenario is a store before a migration and what must hold during and
// after it.
type scenario struct {
	m       Migration
	initial map[string]string // every key before the migration
	preset  map[string]bool   // new keys that existed before (never to be overwritten)
	clash   map[string]bool   // old keys whose new key existed with another value (never deleted)
	final   map[string]string // the end state, the record key excluded
}

// newScenario builds a migration of n bare keys spread over three rules
// (one of them shadowed by an earlier rule for some names), with values
// that are empty, binary or multi-line, some new keys already present with
// the same value, user keys that match no rule, and reserved keys of other
// scopes. With clashes, some new keys are already present with a
// different value: both keys must survive, and the migration is never
// recorded complete.
func newScenario(n int, clashes bool) scenario {
	sc := scenario{
		m: Migration{Name: "scenario", Rules: []Rule{
			{"BEARER_TOKEN_", "workloads"}, {"OAUTH_", "auth"}, {"BEARER_", "registry"},
		}},
		initial: map[string]string{},
		preset:  map[string]bool{},
		clash:   map[string]bool{},
		final:   map[string]string{},
	}
	for i := 0; i < n; i++ {
		prefix := []string{"BEARER_TOKEN_", "OAUTH_", "BEARER_"}[i%3]
		name := fmt.Sprintf("%s%03d", prefix, i)
		val := fmt.Sprintf("value-%d", i)
		switch i % 7 {
		case 1:
			val = ""
		case 2:
			val += "\x00\xff\xfe binary"
		case 3:
			val += "\nsecond line\n"
		}
		sc.initial[name] = val
		r, _ := sc.m.match(name)
		newKey := scope.Key(r.Scope, name)
		sc.final[newKey] = val
		switch {
		case i%10 == 4 && clashes: // another value is already in the scope: both must survive
			sc.initial[newKey] = "newer-" + val
			sc.final[newKey] = "newer-" + val
			sc.final[name] = val
			sc.preset[newKey] = true
			sc.clash[name] = true
		case i%10 == 8: // the same value is already in the scope
			sc.initial[newKey] = val
			sc.preset[newKey] = true
		}
	}
	for k, v := range map[string]string{
		"USER_ONE": "u1", "bearer_token_lower": "case", "XOAUTH_1": "anchored", "OAUTH": "no underscore",
		"__hush_other_BEARER_TOKEN_1": "other scope", "__hush_workloads_SELF": "already scoped",
	} {
		sc.initial[k] = v
		sc.final[k] = v
	}
	return sc
}

func (sc scenario) seed(t testing.TB, p store.Provider) { seed(t, p, sc.initial) }

func (sc scenario) recordKey() string { return scope.Key(RecordScope, sc.m.ID()) }

// checkReadable asserts what must hold at any moment of the migration:
// every original secret is readable with its original value, by its old
// name or through the migration's fallback view; no new key that existed
// before was changed; nothing else changed and nothing unexpected exists.
func (sc scenario) checkReadable(t testing.TB, p store.Provider) {
	t.Helper()
	state := storetest.Dump(t, p)
	done := false
	if _, ok := state[sc.recordKey()]; ok {
		done = true
		if len(sc.clash) > 0 {
			t.Fatalf("migration recorded complete with %d clashes", len(sc.clash))
		}
	}
	views := map[string]*scope.View{}
	for k, v := range sc.initial {
		r, moves := sc.m.match(k)
		if !moves {
			if got, ok := state[k]; !ok || got != v {
				t.Fatalf("untouched key %s = %q (present %v), want %q", k, got, ok, v)
			}
			continue
		}
		newKey := scope.Key(r.Scope, k)
		if got, ok := state[k]; ok && got != v {
			t.Fatalf("old key %s changed to %q, want %q", k, got, v)
		}
		want := v
		if sc.preset[newKey] {
			want = sc.initial[newKey]
		}
		if got, ok := state[newKey]; ok && got != want {
			t.Fatalf("new key %s = %q, want %q (overwritten?)", newKey, got, want)
		}
		_, oldOK := state[k]
		_, newOK := state[newKey]
		if !oldOK && !newOK {
			t.Fatalf("secret %s lost: neither %s nor %s exists", k, k, newKey)
		}
		if sc.clash[k] && (!oldOK || !newOK) {
			t.Fatalf("clash %s: old key present %v, new key %s present %v; want both kept", k, oldOK, newKey, newOK)
		}
		if done && oldOK {
			t.Fatalf("migration recorded complete while old key %s remains", k)
		}
		if views[r.Scope] == nil {
			fb, err := sc.m.Fallback(p, r.Scope)
			if err != nil {
				t.Fatal(err)
			}
			views[r.Scope] = fb
		}
		got, err := views[r.Scope].Get(ctx, k)
		if err != nil || string(got) != want {
			t.Fatalf("fallback Get(%s) in scope %s = %q, %v; want %q", k, r.Scope, got, err, want)
		}
	}
	for k := range state {
		if _, ok := sc.initial[k]; ok {
			continue
		}
		if _, ok := sc.final[k]; ok || k == sc.recordKey() {
			continue
		}
		t.Fatalf("unexpected key %s", k)
	}
}

// phaseOf names the stage a migration has reached in p: "before" (no
// change), "copying" (new keys written, no old key deleted), "deleting"
// (old keys deleted, not recorded) or "done" (recorded, or with clashes
// the end state).
func (sc scenario) phaseOf(t testing.TB, p store.Provider) string {
	t.Helper()
	state := storetest.Dump(t, p)
	if _, ok := state[sc.recordKey()]; ok {
		return "done"
	}
	if len(sc.clash) > 0 && diffMaps(state, sc.final) == "" {
		return "done"
	}
	copied, deleted := false, false
	for k := range sc.initial {
		r, ok := sc.m.match(k)
		if !ok {
			continue
		}
		if _, ok := state[k]; !ok && !sc.clash[k] {
			deleted = true
		} else if _, ok := state[scope.Key(r.Scope, k)]; ok && !sc.preset[scope.Key(r.Scope, k)] {
			copied = true
		}
	}
	switch {
	case deleted:
		return "deleting"
	case copied:
		return "copying"
	}
	return "before"
}

// checkFinal asserts the end state of a migration run to its end: recorded
// complete, or with clashes every clashing pair kept and nothing recorded.
func (sc scenario) checkFinal(t testing.TB, p store.Provider) {
	t.Helper()
	state := storetest.Dump(t, p)
	if _, ok := state[sc.recordKey()]; ok != (len(sc.clash) == 0) {
		t.Fatalf("migration recorded complete: %v, with %d clashes", ok, len(sc.clash))
	}
	delete(state, sc.recordKey())
	if d := diffMaps(state, sc.final); d != "" {
		t.Fatalf("end state differs:\n%s", d)
	}
}

// storeDir returns a directory for stores that many iterations rewrite:
// tmpfs when there is one. These tests exercise the migration's steps, not
// the store's durability (store's own tests cover fsync and crashes), and
// fsync on a disk would make an exhaustive sweep take minutes.
func storeDir(t testing.TB) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "hush-migrate-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

// snapshot is a seeded store file that can be copied to a fresh store.
type snapshot struct {
	id   *age.X25519Identity
	data []byte
	dir  string
	n    int
}

func newSnapshot(t testing.TB, sc scenario) *snapshot {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	s := &snapshot{id: id, dir: storeDir(t)}
	path := filepath.Join(s.dir, "seed.age")
	f, err := store.Create(ctx, path, []string{id.Recipient().String()}, store.Options{Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	sc.seed(t, f)
	if s.data, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	return s
}

// open opens the store at path with the snapshot's identity.
func (s *snapshot) open(t testing.TB, path string) *store.File {
	t.Helper()
	f, err := store.Open(path, store.Options{Identities: []age.Identity{s.id}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// fresh writes a new copy of the seeded store and opens it.
func (s *snapshot) fresh(t testing.TB) *store.File {
	t.Helper()
	s.n++
	path := filepath.Join(s.dir, fmt.Sprintf("store-%d.age", s.n))
	if err := os.WriteFile(path, s.data, 0o600); err != nil {
		t.Fatal(err)
	}
	return s.open(t, path)
}
