package main

// These tests share a store in real git repositories, as docs/TEAMS.md
// describes, with the real hush CLI on both ends: each member edits the
// store with hush commands, and git runs `hush git textconv` and `hush git
// merge` as the drivers `hush git setup` installed. The hush git finds on
// PATH is this test binary, which testscript.Main (main_test.go) puts
// there as "hush".

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/hush-secrets/hush/gitstore"
)

// member is one person with a clone of the shared repository.
type member struct {
	t         *testing.T
	name      string
	dir       string // the clone; hush's store is store.age in it
	idFile    string
	recipient string
	env       []string // for git and hush alike
}

func (m *member) storePath() string { return filepath.Join(m.dir, "store.age") }

// newMember makes a person with a fresh X25519 identity. Members sharing
// home share a global git config.
func newMember(t *testing.T, home, name string) *member {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	m := &member{t: t, name: name, idFile: filepath.Join(t.TempDir(), "identity.txt"), recipient: id.Recipient().String()}
	if err := os.WriteFile(m.idFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.env = []string{
		"PATH=" + os.Getenv("PATH"), // holds "hush", this test binary
		"GORACE=" + os.Getenv("GORACE"),
		"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_EDITOR=true",
		"HUSH_STORE=store.age", "HUSH_IDENTITY_FILE=" + m.idFile,
		"LC_ALL=C",
	}
	return m
}

// gitCmd runs git with umask 077: git writes checked-out and merged files
// with the umask, and hush refuses a store that others can read
// (docs/TEAMS.md tells people to do the same). The drivers git starts
// inherit it.
func gitCmd(env []string, dir string, args ...string) *exec.Cmd {
	c := exec.Command("sh", append([]string{"-c", `umask 077 && exec git "$@"`, "git"}, args...)...)
	c.Dir, c.Env = dir, env
	return c
}

// runGit runs git in dir and fails the test if it fails.
func runGit(t *testing.T, env []string, dir string, args ...string) string {
	t.Helper()
	out, err := gitCmd(env, dir, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// git runs git in the member's clone and returns its combined output.
func (m *member) git(args ...string) (string, error) {
	out, err := gitCmd(m.env, m.dir, args...).CombinedOutput()
	return string(out), err
}

func (m *member) mustGit(args ...string) string {
	m.t.Helper()
	out, err := m.git(args...)
	if err != nil {
		m.t.Fatalf("%s: git %s: %v\n%s", m.name, strings.Join(args, " "), err, out)
	}
	return out
}

// hush runs hush in the member's clone and returns stdout, stderr and the
// exit code.
func (m *member) hush(stdin string, args ...string) (stdout, stderr string, code int) {
	m.t.Helper()
	cmd := hushCmd(m.t, m.env, args...)
	cmd.Dir = m.dir
	var o, e bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		m.t.Fatalf("%s: hush %v: %v", m.name, args, err)
	}
	return o.String(), e.String(), code
}

// mustHush runs hush and fails the test on a non-zero exit; it returns
// stdout and stderr.
func (m *member) mustHush(stdin string, args ...string) (stdout, stderr string) {
	m.t.Helper()
	stdout, stderr, code := m.hush(stdin, args...)
	if code != 0 {
		m.t.Fatalf("%s: hush %s: exit %d: %s", m.name, strings.Join(args, " "), code, stderr)
	}
	return stdout, stderr
}

// set sets name=value pairs with hush set.
func (m *member) set(kv ...string) {
	m.t.Helper()
	for i := 0; i < len(kv); i += 2 {
		m.mustHush(kv[i+1], "set", kv[i])
	}
}

// rm deletes name with hush rm.
func (m *member) rm(name string) {
	m.t.Helper()
	m.mustHush("", "rm", name)
}

// commit commits the member's store.age.
func (m *member) commit(msg string) {
	m.t.Helper()
	m.mustGit("add", "store.age")
	m.mustGit("commit", "-q", "-m", msg)
}

// values reads the clone's store with reader's identity: every secret the
// user sees (the fingerprint key is reserved, so not among them) and the
// recipients.
func (m *member) values(reader *member) (map[string]string, []string) {
	m.t.Helper()
	out, _ := m.mustHush("", "-i", reader.idFile, "export", "--format", "json")
	var vs map[string]string
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		m.t.Fatalf("%s's store read by %s: export: %v", m.name, reader.name, err)
	}
	delete(vs, gitstore.FingerprintKeyName)
	out, _ = m.mustHush("", "-i", reader.idFile, "recipients", "ls", "--json")
	var rs []string
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		m.t.Fatalf("%s's store read by %s: recipients: %v", m.name, reader.name, err)
	}
	return vs, rs
}

// newTeam makes a bare origin and two clones, alice's and bob's. Alice
// creates store.age encrypted to both with SHARED=CANARY-base, runs hush
// git setup (drivers, patterns, a fingerprint key) and pushes; bob clones
// and runs hush git setup too, which must change nothing committed.
func newTeam(t *testing.T, armored bool) (alice, bob *member) {
	t.Helper()
	root, home := t.TempDir(), t.TempDir()
	alice, bob = newMember(t, home, "alice"), newMember(t, home, "bob")
	origin := filepath.Join(root, "origin.git")
	alice.dir, bob.dir = filepath.Join(root, "alice"), filepath.Join(root, "bob")
	runGit(t, alice.env, root, "init", "-q", "--bare", "-b", "main", origin)
	runGit(t, alice.env, root, "init", "-q", "-b", "main", alice.dir)
	configureGit(t, alice)
	initArgs := []string{"init", "-r", alice.recipient, "-r", bob.recipient}
	if armored {
		initArgs = append(initArgs, "--armor")
	}
	alice.mustHush("", initArgs...)
	alice.set("SHARED", "CANARY-base")
	if _, stderr := alice.mustHush("", "git", "setup"); !strings.Contains(stderr, "added a fingerprint key to store.age") {
		t.Fatalf("alice's hush git setup added no fingerprint key:\n%s", stderr)
	}
	alice.mustGit("add", ".gitattributes", ".gitignore", "store.age")
	alice.mustGit("commit", "-q", "-m", "shared store")
	if st := alice.mustGit("status", "--porcelain", "--ignored=no"); st != "" {
		t.Fatalf("work tree not clean after the first commit (is the lock file ignored?):\n%s", st)
	}
	alice.mustGit("remote", "add", "origin", origin)
	alice.mustGit("push", "-q", "-u", "origin", "main")

	runGit(t, bob.env, root, "clone", "-q", origin, bob.dir)
	configureGit(t, bob)
	if _, stderr := bob.mustHush("", "git", "setup"); strings.Contains(stderr, "added") {
		t.Fatalf("hush git setup in a clone changed committed files:\n%s", stderr)
	}
	if st := bob.mustGit("status", "--porcelain"); st != "" {
		t.Fatalf("hush git setup in a clone changed committed files:\n%s", st)
	}
	return alice, bob
}

// configure sets the member's git identity and merge behaviour.
func configureGit(t *testing.T, m *member) {
	t.Helper()
	m.mustGit("config", "user.name", m.name)
	m.mustGit("config", "user.email", m.name+"@example.com")
	m.mustGit("config", "pull.rebase", "false")
}

// checkNoCanary fails if out holds any test value.
func checkNoCanary(t *testing.T, what, out string) {
	t.Helper()
	if strings.Contains(out, "CANARY") {
		t.Fatalf("%s shows a secret value:\n%s", what, out)
	}
}

func TestGitMergeClean(t *testing.T) {
	t.Parallel()
	for _, armored := range []bool{false, true} {
		t.Run(fmt.Sprintf("armored=%v", armored), func(t *testing.T) {
			t.Parallel()
			alice, bob := newTeam(t, armored)
			alice.set("A_ONLY", "CANARY-a")
			alice.commit("alice adds A_ONLY")
			alice.mustGit("push", "-q")
			bob.set("B_ONLY", "CANARY-b")
			bob.commit("bob adds B_ONLY")
			out := bob.mustGit("pull", "--no-edit")
			checkNoCanary(t, "git pull", out)

			want := map[string]string{"SHARED": "CANARY-base", "A_ONLY": "CANARY-a", "B_ONLY": "CANARY-b"}
			for _, who := range []*member{alice, bob} {
				got, rs := bob.values(who)
				if !maps.Equal(got, want) {
					t.Errorf("merged store read by %s: %v, want %v", who.name, got, want)
				}
				if !slices.Equal(rs, []string{alice.recipient, bob.recipient}) {
					t.Errorf("recipients %v", rs)
				}
			}
			raw, _ := os.ReadFile(bob.storePath())
			if bytes.HasPrefix(raw, []byte(armor.Header)) != armored {
				t.Errorf("merge result armored=%v, want %v", !armored, armored)
			}
			bob.mustGit("push", "-q")
			alice.mustGit("pull", "-q")
			if got, _ := alice.values(alice); !maps.Equal(got, want) {
				t.Errorf("alice after pull: %v", got)
			}
		})
	}
}

func TestGitMergeConflict(t *testing.T) {
	t.Parallel()
	alice, bob := newTeam(t, false)
	alice.set("SHARED", "CANARY-alice", "A_EXTRA", "CANARY-a")
	alice.commit("alice changes SHARED")
	alice.mustGit("push", "-q")
	bob.set("SHARED", "CANARY-bob")
	bob.commit("bob changes SHARED")

	out, err := bob.git("pull", "--no-edit")
	if err == nil {
		t.Fatalf("conflicting pull succeeded:\n%s", out)
	}
	checkNoCanary(t, "conflicting pull", out)
	if !strings.Contains(out, "SHARED (changed on both sides)") {
		t.Errorf("output does not name the conflict:\n%s", out)
	}
	if st := bob.mustGit("status", "--porcelain"); !strings.Contains(st, "UU store.age") {
		t.Errorf("store not unmerged: %q", st)
	}
	// The work tree holds a valid store: ours for SHARED, their clean
	// change applied.
	got, _ := bob.values(bob)
	if want := map[string]string{"SHARED": "CANARY-bob", "A_EXTRA": "CANARY-a"}; !maps.Equal(got, want) {
		t.Errorf("store left by the conflict: %v, want %v", got, want)
	}
	// Resolve as the hint says: set the value, git add, commit.
	bob.set("SHARED", "CANARY-resolved")
	bob.commit("merge, SHARED resolved")
	bob.mustGit("push", "-q")
	alice.mustGit("pull", "-q")
	if got, _ := alice.values(alice); !maps.Equal(got, map[string]string{"SHARED": "CANARY-resolved", "A_EXTRA": "CANARY-a"}) {
		t.Errorf("alice after resolution: %v", got)
	}
}

func TestGitMergeChangeVsDelete(t *testing.T) {
	t.Parallel()
	for _, bobDeletes := range []bool{false, true} {
		t.Run(fmt.Sprintf("bobDeletes=%v", bobDeletes), func(t *testing.T) {
			t.Parallel()
			alice, bob := newTeam(t, false)
			change, remove := alice, bob
			if !bobDeletes {
				change, remove = bob, alice
			}
			change.set("SHARED", "CANARY-changed")
			change.commit("change SHARED")
			remove.rm("SHARED")
			remove.set("OTHER", "CANARY-o") // an unrelated change on the same side
			remove.commit("delete SHARED")
			alice.mustGit("push", "-q")
			out, err := bob.git("pull", "--no-edit")
			if err == nil {
				t.Fatalf("change/delete merged cleanly:\n%s", out)
			}
			checkNoCanary(t, "pull", out)
			reason := "changed by us, deleted by them"
			if bobDeletes {
				reason = "deleted by us, changed by them"
			}
			if !strings.Contains(out, "SHARED ("+reason+")") {
				t.Errorf("output:\n%s", out)
			}
			got, _ := bob.values(bob)
			_, kept := got["SHARED"]
			if kept == bobDeletes || got["OTHER"] != "CANARY-o" {
				t.Errorf("store left by the conflict: %v", got)
			}
		})
	}
}

func TestGitMergeRecipients(t *testing.T) {
	t.Parallel()
	alice, bob := newTeam(t, false)
	carol := newMember(t, t.TempDir(), "carol")
	alice.mustHush("", "recipients", "add", carol.recipient)
	alice.commit("add carol")
	alice.mustGit("push", "-q")
	bob.set("NEW", "CANARY-new")
	bob.commit("bob adds NEW")
	out := bob.mustGit("pull", "--no-edit")
	checkNoCanary(t, "pull", out)
	got, rs := bob.values(carol)
	if got["NEW"] != "CANARY-new" || got["SHARED"] != "CANARY-base" {
		t.Errorf("carol reads %v", got)
	}
	if want := []string{alice.recipient, bob.recipient, carol.recipient}; !slices.Equal(rs, want) {
		t.Errorf("recipients %v, want %v", rs, want)
	}
	bob.mustGit("push", "-q")
	alice.mustGit("pull", "-q")

	// A removal on one side is kept through a merge with a change on the
	// other, and the removed member cannot read the result.
	alice.mustHush("", "recipients", "rm", carol.recipient)
	alice.commit("remove carol")
	alice.mustGit("push", "-q")
	bob.set("NEW2", "CANARY-new2")
	bob.commit("bob adds NEW2")
	bob.mustGit("pull", "--no-edit")
	got, rs = bob.values(alice)
	if got["NEW2"] != "CANARY-new2" || slices.Contains(rs, carol.recipient) || len(rs) != 2 {
		t.Errorf("after removal merge: %v %v", got, rs)
	}
	if _, stderr, code := bob.hush("", "-i", carol.idFile, "ls"); code != 5 {
		t.Errorf("removed member reading the merge: exit %d, want 5 (cannot decrypt): %s", code, stderr)
	}
}

func TestGitDiffHidesValues(t *testing.T) {
	t.Parallel()
	alice, _ := newTeam(t, false)
	dave := newMember(t, t.TempDir(), "dave")
	alice.set("GONE", "CANARY-gone")
	alice.commit("add GONE")
	alice.set("SHARED", "CANARY-new-shared", "ADDED", "CANARY-added")
	alice.rm("GONE")
	alice.mustHush("", "recipients", "add", dave.recipient)
	for _, args := range [][]string{{"diff"}, {"-c", "core.pager=cat", "diff", "HEAD"}} {
		out := alice.mustGit(args...)
		checkNoCanary(t, "git diff", out)
		for _, want := range []string{"-secret SHARED fp:", "+secret SHARED fp:", "+secret ADDED fp:", "-secret GONE fp:", "+recipient " + dave.recipient} {
			if !strings.Contains(out, want) {
				t.Errorf("git %v lacks %q:\n%s", args, want, out)
			}
		}
		if strings.Contains(out, "secret __hush_git") || strings.Contains(out, " secret KEEP") {
			t.Errorf("git diff shows more than the change:\n%s", out)
		}
	}
	alice.commit("change things")
	for _, args := range [][]string{{"log", "-p"}, {"show"}, {"log", "-p", "--all", "--", "store.age"}} {
		out := alice.mustGit(args...)
		checkNoCanary(t, "git "+strings.Join(args, " "), out)
		if !strings.Contains(out, "+secret SHARED fp:") || !strings.Contains(out, "+secret ADDED fp:") {
			t.Errorf("git %v does not name the change:\n%s", args, out)
		}
	}
	// Someone who is not a recipient still gets a working log.
	alice.env = append(alice.env, "HUSH_IDENTITY_FILE="+filepath.Join(filepath.Dir(dave.idFile), "nope.txt"))
	out := alice.mustGit("log", "-p")
	checkNoCanary(t, "log -p without an identity", out)
	if !strings.Contains(out, "cannot decrypt") {
		t.Errorf("log -p without identity:\n%s", out)
	}
	// A person who asks sees values.
	alice.env = alice.env[:len(alice.env)-1]
	out = alice.mustGit("-c", "diff.hush.textconv=hush git textconv --show-values", "show")
	if !strings.Contains(out, "CANARY-added") {
		t.Errorf("--show-values:\n%s", out)
	}
}

func TestGitRebase(t *testing.T) {
	t.Parallel()
	alice, bob := newTeam(t, false)
	alice.set("A_ONLY", "CANARY-a")
	alice.commit("alice adds A_ONLY")
	alice.mustGit("push", "-q")
	bob.set("B_ONLY", "CANARY-b")
	bob.commit("bob adds B_ONLY")
	out := bob.mustGit("pull", "--rebase")
	checkNoCanary(t, "pull --rebase", out)
	if merges := bob.mustGit("log", "--merges", "--oneline"); merges != "" {
		t.Errorf("rebase made merge commits: %s", merges)
	}
	if got, _ := bob.values(alice); !maps.Equal(got, map[string]string{"SHARED": "CANARY-base", "A_ONLY": "CANARY-a", "B_ONLY": "CANARY-b"}) {
		t.Errorf("after rebase: %v", got)
	}
	bob.mustGit("push", "-q")

	// A conflicting rebase stops, names the key, and continues once the
	// store is fixed and added.
	alice.mustGit("pull", "-q")
	alice.set("SHARED", "CANARY-alice")
	alice.commit("alice changes SHARED")
	alice.mustGit("push", "-q")
	bob.set("SHARED", "CANARY-bob")
	bob.commit("bob changes SHARED")
	out, err := bob.git("pull", "--rebase")
	if err == nil {
		t.Fatalf("conflicting rebase succeeded:\n%s", out)
	}
	checkNoCanary(t, "conflicting rebase", out)
	if !strings.Contains(out, "SHARED (changed on both sides)") {
		t.Errorf("rebase output:\n%s", out)
	}
	bob.set("SHARED", "CANARY-resolved")
	bob.mustGit("add", "store.age")
	bob.mustGit("rebase", "--continue")
	if got, _ := bob.values(bob); got["SHARED"] != "CANARY-resolved" || got["B_ONLY"] != "CANARY-b" {
		t.Errorf("after resolved rebase: %v", got)
	}
}

// TestGitMergeUnrelated merges two stores created independently: git has
// no base version and hands the driver an empty %O.
func TestGitMergeUnrelated(t *testing.T) {
	t.Parallel()
	alice, bob := newTeam(t, false)
	root := filepath.Dir(bob.dir)
	bob.dir = filepath.Join(root, "bob2")
	runGit(t, bob.env, root, "init", "-q", "-b", "main", bob.dir)
	configureGit(t, bob)
	bob.mustHush("", "git", "setup", "/store.age")
	bob.mustHush("", "init", "-r", bob.recipient, "-r", alice.recipient)
	bob.set("SHARED", "CANARY-base", "B_ONLY", "CANARY-b") // SHARED as alice has it: no conflict
	bob.mustGit("add", ".gitattributes", ".gitignore", "store.age")
	bob.mustGit("commit", "-q", "-m", "bob's own store")
	bob.mustGit("fetch", "-q", filepath.Join(root, "origin.git"), "main")
	out := bob.mustGit("merge", "--no-edit", "--allow-unrelated-histories", "FETCH_HEAD")
	checkNoCanary(t, "merge", out)
	got, rs := bob.values(alice)
	if !maps.Equal(got, map[string]string{"SHARED": "CANARY-base", "B_ONLY": "CANARY-b"}) {
		t.Errorf("add/add merge: %v", got)
	}
	if len(rs) != 2 {
		t.Errorf("recipients %v", rs)
	}
}
