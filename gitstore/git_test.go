package gitstore

// These tests run real git with real repositories. git calls the drivers
// as separate processes: internal/testdriver, built in TestMain and put on
// PATH as "hush", stands in for the hush command.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/hush-secrets/hush/store"
)

// driverDir holds the test driver, built as "hush".
var driverDir string

func TestMain(m *testing.M) {
	// git writes checked-out files with the umask; hush refuses a store
	// that others can read. docs/TEAMS.md tells people to do the same.
	syscall.Umask(0o077)
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gitstore-driver-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "hush"), "./internal/testdriver")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the test driver: %v\n%s", err, out)
		return 1
	}
	driverDir = dir
	return m.Run()
}

// member is one person with a clone of the shared repository.
type member struct {
	t     *testing.T
	name  string
	dir   string
	id    *age.X25519Identity
	idDir string
	env   []string
}

func (m *member) recipient() string { return m.id.Recipient().String() }
func (m *member) storePath() string { return filepath.Join(m.dir, "store.age") }

func newMember(t *testing.T, home, name string) *member {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	m := &member{t: t, name: name, id: id, idDir: t.TempDir()}
	idFile := filepath.Join(m.idDir, "identity.txt")
	if err := os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.env = append(os.Environ(),
		"HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_EDITOR=true",
		"PATH="+driverDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HUSH_IDENTITY_FILE="+idFile, "HUSH_IDENTITY=",
		"LC_ALL=C")
	return m
}

// git runs git in the member's clone and returns its combined output.
func (m *member) git(args ...string) (string, error) {
	m.t.Helper()
	c := exec.Command("git", args...)
	c.Dir, c.Env = m.dir, m.env
	out, err := c.CombinedOutput()
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

func (m *member) open(ids ...age.Identity) *store.File {
	m.t.Helper()
	if len(ids) == 0 {
		ids = []age.Identity{m.id}
	}
	f, err := store.Open(m.storePath(), store.Options{Identities: ids})
	if err != nil {
		m.t.Fatal(err)
	}
	return f
}

// set sets name=value pairs in one write.
func (m *member) set(kv ...string) {
	m.t.Helper()
	err := m.open().Update(context.Background(), func(tx store.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Set(kv[i], []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		m.t.Fatal(err)
	}
}

func (m *member) del(name string) {
	m.t.Helper()
	if err := m.open().Delete(context.Background(), name); err != nil {
		m.t.Fatal(err)
	}
}

func (m *member) commit(msg string) {
	m.t.Helper()
	m.mustGit("add", "store.age")
	m.mustGit("commit", "-q", "-m", msg)
}

// values reads the clone's store with identity id.
func (m *member) values(id age.Identity) (map[string]string, []string) {
	m.t.Helper()
	data, err := os.ReadFile(m.storePath())
	if err != nil {
		m.t.Fatal(err)
	}
	s, err := store.DecryptSnapshot(data, []age.Identity{id})
	if err != nil {
		m.t.Fatalf("%s's store: %v", m.name, err)
	}
	vs := values(s)
	delete(vs, FingerprintKeyName)
	return vs, s.Recipients
}

// newTeam makes a bare origin and two clones, alice's and bob's. Alice
// creates store.age encrypted to both, with SHARED=base, sets up the
// drivers and pushes; bob clones and sets up the drivers too.
func newTeam(t *testing.T, armored bool) (alice, bob *member) {
	t.Helper()
	root, home := t.TempDir(), t.TempDir()
	alice, bob = newMember(t, home, "alice"), newMember(t, home, "bob")
	origin := filepath.Join(root, "origin.git")
	alice.dir, bob.dir = filepath.Join(root, "alice"), filepath.Join(root, "bob")
	runGit(t, alice.env, root, "init", "-q", "--bare", "-b", "main", origin)
	runGit(t, alice.env, root, "init", "-q", "-b", "main", alice.dir)
	configure(t, alice)
	// One write: the recipients, a fingerprint key and SHARED.
	initial := &store.Snapshot{
		Recipients: []string{alice.recipient(), bob.recipient()},
		Entries: map[string]store.SnapshotEntry{
			FingerprintKeyName: {Value: []byte("0123456789abcdef0123456789abcdef")},
			"SHARED":           {Value: []byte("CANARY-base")},
		},
		Armored: armored,
	}
	if err := store.WriteSnapshot(context.Background(), alice.storePath(), initial, store.Options{}); err != nil {
		t.Fatal(err)
	}
	alice.mustGit("add", ".gitattributes", ".gitignore", "store.age")
	alice.mustGit("commit", "-q", "-m", "shared store")
	if st := alice.mustGit("status", "--porcelain", "--ignored=no"); st != "" {
		t.Fatalf("work tree not clean after the first commit (is the lock file ignored?):\n%s", st)
	}
	alice.mustGit("remote", "add", "origin", origin)
	alice.mustGit("push", "-q", "-u", "origin", "main")

	runGit(t, bob.env, root, "clone", "-q", origin, bob.dir)
	res := configure(t, bob)
	if len(res.AddedPatterns) != 0 || len(res.AddedIgnores) != 0 {
		t.Fatalf("setup in a clone changed committed files: %+v", res)
	}
	return alice, bob
}

// configure sets the member's git identity and installs the drivers with
// this test binary as the hush command.
func configure(t *testing.T, m *member) *SetupResult {
	t.Helper()
	m.mustGit("config", "user.name", m.name)
	m.mustGit("config", "user.email", m.name+"@example.com")
	m.mustGit("config", "pull.rebase", "false")
	res, err := Setup(context.Background(), SetupOptions{Dir: m.dir, Env: m.env, Patterns: []string{"/store.age"}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// noCanary fails if out holds any test value.
func noCanary(t *testing.T, what, out string) {
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
			noCanary(t, "git pull", out)

			want := map[string]string{"SHARED": "CANARY-base", "A_ONLY": "CANARY-a", "B_ONLY": "CANARY-b"}
			for _, who := range []*member{alice, bob} {
				got, rs := bob.values(who.id)
				if !mapsEqual(got, want) {
					t.Errorf("merged store read by %s: %v, want %v", who.name, got, want)
				}
				if !slices.Equal(rs, []string{alice.recipient(), bob.recipient()}) {
					t.Errorf("recipients %v", rs)
				}
			}
			raw, _ := os.ReadFile(bob.storePath())
			if bytes.HasPrefix(raw, []byte(armor.Header)) != armored {
				t.Errorf("merge result armored=%v, want %v", !armored, armored)
			}
			bob.mustGit("push", "-q")
			alice.mustGit("pull", "-q")
			if got, _ := alice.values(alice.id); !mapsEqual(got, want) {
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
	noCanary(t, "conflicting pull", out)
	if !strings.Contains(out, "SHARED (changed on both sides)") {
		t.Errorf("output does not name the conflict:\n%s", out)
	}
	if st := bob.mustGit("status", "--porcelain"); !strings.Contains(st, "UU store.age") {
		t.Errorf("store not unmerged: %q", st)
	}
	// The work tree holds a valid store: ours for SHARED, their clean
	// change applied.
	got, _ := bob.values(bob.id)
	if want := map[string]string{"SHARED": "CANARY-bob", "A_EXTRA": "CANARY-a"}; !mapsEqual(got, want) {
		t.Errorf("store left by the conflict: %v, want %v", got, want)
	}
	// Resolve as the hint says: set the value, git add, commit.
	bob.set("SHARED", "CANARY-resolved")
	bob.commit("merge, SHARED resolved")
	bob.mustGit("push", "-q")
	alice.mustGit("pull", "-q")
	if got, _ := alice.values(alice.id); !mapsEqual(got, map[string]string{"SHARED": "CANARY-resolved", "A_EXTRA": "CANARY-a"}) {
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
			remove.del("SHARED")
			remove.set("OTHER", "CANARY-o") // an unrelated change on the same side
			remove.commit("delete SHARED")
			alice.mustGit("push", "-q")
			out, err := bob.git("pull", "--no-edit")
			if err == nil {
				t.Fatalf("change/delete merged cleanly:\n%s", out)
			}
			noCanary(t, "pull", out)
			reason := "changed by us, deleted by them"
			if bobDeletes {
				reason = "deleted by us, changed by them"
			}
			if !strings.Contains(out, "SHARED ("+reason+")") {
				t.Errorf("output:\n%s", out)
			}
			got, _ := bob.values(bob.id)
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
	ctx := context.Background()
	if err := alice.open().AddRecipients(ctx, []string{carol.recipient()}); err != nil {
		t.Fatal(err)
	}
	alice.commit("add carol")
	alice.mustGit("push", "-q")
	bob.set("NEW", "CANARY-new")
	bob.commit("bob adds NEW")
	out := bob.mustGit("pull", "--no-edit")
	noCanary(t, "pull", out)
	got, rs := bob.values(carol.id)
	if got["NEW"] != "CANARY-new" || got["SHARED"] != "CANARY-base" {
		t.Errorf("carol reads %v", got)
	}
	if want := []string{alice.recipient(), bob.recipient(), carol.recipient()}; !slices.Equal(rs, want) {
		t.Errorf("recipients %v, want %v", rs, want)
	}
	bob.mustGit("push", "-q")
	alice.mustGit("pull", "-q")

	// A removal on one side is kept through a merge with a change on the
	// other, and the removed member cannot read the result.
	if err := alice.open().RemoveRecipients(ctx, []string{carol.recipient()}, false); err != nil {
		t.Fatal(err)
	}
	alice.commit("remove carol")
	alice.mustGit("push", "-q")
	bob.set("NEW2", "CANARY-new2")
	bob.commit("bob adds NEW2")
	bob.mustGit("pull", "--no-edit")
	got, rs = bob.values(alice.id)
	if got["NEW2"] != "CANARY-new2" || slices.Contains(rs, carol.recipient()) || len(rs) != 2 {
		t.Errorf("after removal merge: %v %v", got, rs)
	}
	data, _ := os.ReadFile(bob.storePath())
	if _, err := store.DecryptSnapshot(data, []age.Identity{carol.id}); !errors.Is(err, store.ErrDecrypt) {
		t.Errorf("removed member still decrypts the merge: %v", err)
	}
}

func TestGitDiffHidesValues(t *testing.T) {
	t.Parallel()
	alice, _ := newTeam(t, false)
	dave := newMember(t, t.TempDir(), "dave")
	alice.set("GONE", "CANARY-gone")
	alice.commit("add GONE")
	alice.set("SHARED", "CANARY-new-shared", "ADDED", "CANARY-added")
	alice.del("GONE")
	if err := alice.open().AddRecipients(context.Background(), []string{dave.recipient()}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"diff"}, {"-c", "core.pager=cat", "diff", "HEAD"}} {
		out := alice.mustGit(args...)
		noCanary(t, "git diff", out)
		for _, want := range []string{"-secret SHARED fp:", "+secret SHARED fp:", "+secret ADDED fp:", "-secret GONE fp:", "+recipient " + dave.recipient()} {
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
		noCanary(t, "git "+strings.Join(args, " "), out)
		if !strings.Contains(out, "+secret SHARED fp:") || !strings.Contains(out, "+secret ADDED fp:") {
			t.Errorf("git %v does not name the change:\n%s", args, out)
		}
	}
	// Someone who is not a recipient still gets a working log.
	alice.env = append(alice.env, "HUSH_IDENTITY_FILE="+filepath.Join(dave.idDir, "nope.txt"))
	out := alice.mustGit("log", "-p")
	noCanary(t, "log -p without an identity", out)
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
	noCanary(t, "pull --rebase", out)
	if merges := bob.mustGit("log", "--merges", "--oneline"); merges != "" {
		t.Errorf("rebase made merge commits: %s", merges)
	}
	if got, _ := bob.values(alice.id); !mapsEqual(got, map[string]string{"SHARED": "CANARY-base", "A_ONLY": "CANARY-a", "B_ONLY": "CANARY-b"}) {
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
	noCanary(t, "conflicting rebase", out)
	if !strings.Contains(out, "SHARED (changed on both sides)") {
		t.Errorf("rebase output:\n%s", out)
	}
	bob.set("SHARED", "CANARY-resolved")
	bob.mustGit("add", "store.age")
	bob.mustGit("rebase", "--continue")
	if got, _ := bob.values(bob.id); got["SHARED"] != "CANARY-resolved" || got["B_ONLY"] != "CANARY-b" {
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
	configure(t, bob)
	if _, err := store.Create(context.Background(), bob.storePath(), []string{bob.recipient(), alice.recipient()}, store.Options{Identities: []age.Identity{bob.id}}); err != nil {
		t.Fatal(err)
	}
	bob.set("SHARED", "CANARY-base", "B_ONLY", "CANARY-b") // SHARED as alice has it: no conflict
	bob.mustGit("add", ".gitattributes", ".gitignore", "store.age")
	bob.mustGit("commit", "-q", "-m", "bob's own store")
	bob.mustGit("fetch", "-q", filepath.Join(root, "origin.git"), "main")
	out := bob.mustGit("merge", "--no-edit", "--allow-unrelated-histories", "FETCH_HEAD")
	noCanary(t, "merge", out)
	got, rs := bob.values(alice.id)
	if !mapsEqual(got, map[string]string{"SHARED": "CANARY-base", "B_ONLY": "CANARY-b"}) {
		t.Errorf("add/add merge: %v", got)
	}
	if len(rs) != 2 {
		t.Errorf("recipients %v", rs)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
