package main

import (
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
