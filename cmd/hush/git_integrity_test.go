package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"filippo.io/age"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// joinTeam clones the team's origin for m and runs hush git setup there.
func joinTeam(t *testing.T, m, someone *member) {
	t.Helper()
	root := filepath.Dir(someone.dir)
	m.dir = filepath.Join(root, m.name)
	runGit(t, m.env, root, "clone", "-q", filepath.Join(root, "origin.git"), m.dir)
	configureGit(t, m)
	m.mustHush("", "git", "setup")
}

// A removed member's open branch, merged after the removal, never re-adds
// them: a branch that changed no recipient merges cleanly and the removal
// stands (and the merge says so, without -v); a branch that added a
// recipient (the member's second key) is a conflict naming the recipients,
// the file left encrypted to ours. Every member reads every merge.
func TestGitRemovedMemberBranch(t *testing.T) {
	t.Parallel()
	alice, bob := newTeam(t, false)
	carol := newMember(t, t.TempDir(), "carol")
	carol2 := newMember(t, t.TempDir(), "carol2") // carol's second key
	alice.mustHush("", "recipients", "add", carol.recipient)
	alice.commit("add carol")
	alice.mustGit("push", "-q")
	bob.mustGit("pull", "-q")
	joinTeam(t, carol, alice)

	// carol's open branches: one changes a value, one also adds her
	// second key
	carol.mustGit("checkout", "-q", "-b", "values")
	carol.set("CAROL", "CANARY-c")
	carol.commit("carol sets CAROL")
	carol.mustGit("push", "-q", "origin", "values")
	carol.mustGit("checkout", "-q", "-b", "keys", "main")
	carol.mustHush("", "recipients", "add", carol2.recipient)
	carol.set("CAROL2", "CANARY-c2")
	carol.commit("carol adds her second key")
	carol.mustGit("push", "-q", "origin", "keys")

	// alice removes carol; bob's pull takes the removal and says so
	alice.mustHush("", "recipients", "rm", carol.recipient)
	alice.commit("remove carol")
	alice.mustGit("push", "-q")
	bob.set("BOB", "CANARY-b")
	bob.commit("bob sets BOB")
	out := bob.mustGit("pull", "--no-edit")
	checkNoCanary(t, "pull", out)
	if !strings.Contains(out, "recipient "+carol.recipient+" removed (by their side)") {
		t.Errorf("the merge did not say it took the removal:\n%s", out)
	}
	bob.mustGit("push", "-q")
	alice.mustGit("pull", "-q")

	// carol's value branch: merged cleanly, carol stays removed
	alice.mustGit("fetch", "-q")
	out = alice.mustGit("merge", "--no-edit", "origin/values")
	checkNoCanary(t, "merge of values", out)
	got, rs := alice.values(bob)
	if got["CAROL"] != "CANARY-c" || got["BOB"] != "CANARY-b" || slices.Contains(rs, carol.recipient) || len(rs) != 2 {
		t.Errorf("after merging carol's value branch: %v %v", got, rs)
	}
	if _, stderr, code := alice.hush("", "-i", carol.idFile, "ls"); code != 5 {
		t.Errorf("carol reads the merge: exit %d %s", code, stderr)
	}

	// carol's key branch: a conflict that names the recipients
	out, err := alice.git("merge", "--no-edit", "origin/keys")
	if err == nil {
		t.Fatalf("a removed member's branch adding a recipient merged cleanly:\n%s", out)
	}
	checkNoCanary(t, "merge of keys", out)
	for _, want := range []string{"recipients changed on both sides", "-" + carol.recipient, "+" + carol2.recipient, "hush --store store.age recipients add"} {
		if !strings.Contains(out, want) {
			t.Errorf("the conflict does not name %q:\n%s", want, out)
		}
	}
	if st := alice.mustGit("status", "--porcelain"); !strings.Contains(st, "UU store.age") {
		t.Errorf("store not left unmerged: %q", st)
	}
	got, rs = alice.values(alice)
	if slices.Contains(rs, carol.recipient) || slices.Contains(rs, carol2.recipient) || got["CAROL2"] != "CANARY-c2" {
		t.Errorf("store left by the conflict: %v %v", got, rs)
	}
	for _, m := range []*member{carol, carol2} {
		if _, stderr, code := alice.hush("", "-i", m.idFile, "ls"); code != 5 {
			t.Errorf("%s reads the conflicted store: exit %d %s", m.name, code, stderr)
		}
	}
	// resolved by keeping our recipients; bob reads every version
	alice.commit("merge carol's keys branch without her keys")
	alice.mustGit("push", "-q")
	bob.mustGit("pull", "-q")
	if _, stderr, code := bob.hush("", "ls"); code != 0 {
		t.Errorf("bob after the merges: exit %d %s", code, stderr)
	}
}

// git log -p marks the commit where someone who is not a member pushed a
// store forged with the recipients' public keys, and no genuine commit:
// not the rotation of a removal, not a merge, not commits older than it.
func TestGitLogMarksForgery(t *testing.T) {
	t.Parallel()
	alice, bob := newTeam(t, false)
	carol := newMember(t, t.TempDir(), "carol")
	alice.mustHush("", "recipients", "add", carol.recipient)
	alice.commit("add carol")
	alice.mustHush("", "recipients", "rm", carol.recipient)
	alice.commit("remove carol")
	alice.mustGit("push", "-q")
	bob.set("B", "CANARY-b")
	bob.commit("bob sets B")
	alice.set("A", "CANARY-a")
	alice.commit("alice sets A")
	alice.mustGit("push", "-q")
	bob.mustGit("pull", "-q", "--no-edit")
	bob.mustGit("push", "-q")
	alice.mustGit("pull", "-q")
	alice.mustHush("", "ls")

	// mallory can push, and knows the recipients' public keys
	root := filepath.Dir(alice.dir)
	mallory := newMember(t, t.TempDir(), "mallory")
	mallory.dir = filepath.Join(root, "mallory")
	runGit(t, mallory.env, root, "clone", "-q", filepath.Join(root, "origin.git"), mallory.dir)
	configureGit(t, mallory)
	forged := forgeStore(t, `{"version":1,"recipients":[],"entries":{"BASH_ENV":{"value":"CANARY-pwned"}},"store_key":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="}`, alice.recipient, bob.recipient)
	if err := os.WriteFile(mallory.storePath(), forged, 0o600); err != nil {
		t.Fatal(err)
	}
	mallory.commit("routine update")
	mallory.mustGit("push", "-q")

	alice.mustGit("fetch", "-q")
	out := alice.mustGit("log", "-p", "origin/main")
	checkNoCanary(t, "git log -p", out)
	if n := strings.Count(out, "integrity FORGED"); n != 1 || !strings.Contains(out, "+integrity FORGED: written by someone who could not read the version accepted on this machine") {
		t.Errorf("git log -p marks %d versions, want the forged one:\n%s", n, out)
	}
	if i, j := strings.Index(out, "routine update"), strings.Index(out, "integrity FORGED"); i < 0 || j < i || j > strings.Index(out, "alice sets A") {
		t.Errorf("the mark is not in the forged commit:\n%s", out)
	}
	// a machine with no accepted state marks nothing
	bob.env = append(bob.env, "XDG_STATE_HOME="+t.TempDir())
	bob.mustGit("fetch", "-q")
	if out := bob.mustGit("log", "-p", "origin/main"); strings.Contains(out, "integrity") {
		t.Errorf("a machine that accepted nothing marks:\n%s", out)
	}
}

// forgeStore encrypts doc (with its recipients set to rs) to rs, as stock
// age -r does.
func forgeStore(t *testing.T, doc string, rs ...string) []byte {
	t.Helper()
	quoted := make([]string, len(rs))
	var recips []age.Recipient
	for i, r := range rs {
		quoted[i] = `"` + r + `"`
		x, err := age.ParseX25519Recipient(r)
		if err != nil {
			t.Fatal(err)
		}
		recips = append(recips, x)
	}
	doc = strings.Replace(doc, `"recipients":[]`, `"recipients":[`+strings.Join(quoted, ",")+`]`, 1)
	var b bytes.Buffer
	w, err := age.Encrypt(&b, recips...)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(doc))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The property of TestIntegrityNeverTripsMembers (package gitstore, 200
// operations) as a smoke run through real git and the real CLI: three
// clones, 12 random writes, recipient changes and rekeys, each committed,
// pulled (merged by the driver, conflicts resolved by keeping ours) and
// pushed, then pulled by a random member; both read their clones without
// exit 5.
func TestGitIntegritySmoke(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	alice, bob := newTeam(t, false)
	carol := newMember(t, filepath.Dir(filepath.Dir(alice.idFile)), "carol")
	alice.mustHush("", "recipients", "add", carol.recipient)
	alice.commit("add carol")
	alice.mustGit("push", "-q")
	joinTeam(t, carol, alice)
	bob.mustGit("pull", "-q")
	members := []*member{alice, bob, carol}
	outsider := newMember(t, t.TempDir(), "outsider").recipient
	for op := range 12 {
		m := members[rng.IntN(len(members))]
		switch k := rng.IntN(4); k {
		case 0, 1:
			m.set("K"+strconv.Itoa(rng.IntN(4)), "CANARY-"+strconv.Itoa(op))
		case 2:
			if _, _, code := m.hush("", "recipients", "rm", outsider); code != 0 {
				m.mustHush("", "recipients", "add", outsider)
			}
		case 3:
			m.mustHush("", "rekey")
		}
		m.commit("op " + strconv.Itoa(op))
		if out, err := m.git("pull", "--no-edit"); err != nil {
			checkNoCanary(t, "pull", out)
			m.commit("merge, ours kept") // resolve as a person keeping ours
		}
		m.mustGit("push", "-q")
		r := members[rng.IntN(len(members))]
		if out, err := r.git("pull", "--no-edit"); err != nil {
			checkNoCanary(t, "pull", out)
			r.commit("merge, ours kept")
		}
		for _, r := range []*member{m, r} {
			if _, stderr, code := r.hush("", "ls"); code != 0 {
				t.Fatalf("op %d by %s: %s reads their clone: exit %d: %s", op, m.name, r.name, code, stderr)
			}
		}
	}
}
