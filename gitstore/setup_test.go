package gitstore

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/internal/atomicfile/atomicfiletest"
)

// gitEnv is an environment with a private HOME and no system config.
func gitEnv(t *testing.T) ([]string, string) {
	home := t.TempDir()
	return append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "GIT_CONFIG_NOSYSTEM=1"), home
}

func runGit(t *testing.T, env []string, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir, c.Env = dir, env
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestSetupIdempotent(t *testing.T) {
	t.Parallel()
	env, _ := gitEnv(t)
	repo := t.TempDir()
	runGit(t, env, repo, "init", "-q")
	sub := filepath.Join(repo, "secrets")
	os.Mkdir(sub, 0o700)
	// Existing files without a final newline are kept and extended.
	os.WriteFile(filepath.Join(repo, ".gitattributes"), []byte("*.png binary"), 0o644)
	os.WriteFile(filepath.Join(repo, ".gitignore"), []byte("bin/\n"), 0o644)

	opts := SetupOptions{Dir: sub, Env: env, Patterns: []string{"/secrets/store.age", "*.hush.age"}, Command: "/opt/my tools/hush"}
	res, err := Setup(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.AddedPatterns) != 2 || len(res.AddedIgnores) != 2 || res.ConfigScope != "local" {
		t.Errorf("first run: %+v", res)
	}
	for i := 0; i < 2; i++ {
		res, err = Setup(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.AddedPatterns)+len(res.AddedIgnores) != 0 {
			t.Errorf("run %d changed files: %+v", i+2, res)
		}
	}
	attrs, _ := os.ReadFile(filepath.Join(repo, ".gitattributes"))
	if want := "*.png binary\n/secrets/store.age diff=hush merge=hush\n*.hush.age diff=hush merge=hush\n"; string(attrs) != want {
		t.Errorf(".gitattributes:\n%s\nwant:\n%s", attrs, want)
	}
	ignore, _ := os.ReadFile(filepath.Join(repo, ".gitignore"))
	if want := "bin/\n/secrets/store.age.lock\n*.hush.age.lock\n"; string(ignore) != want {
		t.Errorf(".gitignore:\n%s\nwant:\n%s", ignore, want)
	}
	for key, want := range map[string]string{
		"diff.hush.textconv": "'/opt/my tools/hush' git textconv",
		"merge.hush.driver":  "'/opt/my tools/hush' git merge %O %A %B %P",
		"merge.hush.name":    "hush: key-level merge of an encrypted store",
	} {
		got := runGit(t, env, repo, "config", "--local", "--get-all", key)
		if got != want+"\n" {
			t.Errorf("%s = %q, want one value %q", key, got, want)
		}
	}
	// git sees the attributes on the store path.
	out := runGit(t, env, repo, "check-attr", "diff", "merge", "--", "secrets/store.age")
	if !strings.Contains(out, "diff: hush") || !strings.Contains(out, "merge: hush") {
		t.Errorf("check-attr: %s", out)
	}
}

func TestSetupStores(t *testing.T) {
	t.Parallel()
	env, _ := gitEnv(t)
	repo := t.TempDir()
	runGit(t, env, repo, "init", "-q")
	os.Mkdir(filepath.Join(repo, "ops"), 0o700)
	// A relative store path, from a subdirectory of the work tree.
	res, err := Setup(context.Background(), SetupOptions{Dir: filepath.Join(repo, "ops"), Env: env,
		Stores: []string{filepath.Join(repo, "ops", "team.age")}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/ops/team.age"}; !slices.Equal(res.Patterns, want) {
		t.Errorf("patterns %v, want %v", res.Patterns, want)
	}
	out := runGit(t, env, repo, "check-attr", "merge", "--", "ops/team.age", "other/team.age")
	if !strings.Contains(out, "ops/team.age: merge: hush") || !strings.Contains(out, "other/team.age: merge: unspecified") {
		t.Errorf("check-attr: %s", out)
	}
	_, err = Setup(context.Background(), SetupOptions{Dir: repo, Env: env, Stores: []string{filepath.Join(t.TempDir(), "s.age")}})
	if !errors.Is(err, ErrOutsideRepository) {
		t.Errorf("store outside: %v", err)
	}
}

func TestSetupGlobal(t *testing.T) {
	t.Parallel()
	env, home := gitEnv(t)
	dir := t.TempDir() // not a repository: --global needs none
	res, err := Setup(context.Background(), SetupOptions{Dir: dir, Env: env, Global: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.ConfigScope != "global" || res.AttributesFile != "" {
		t.Errorf("result %+v", res)
	}
	if got := runGit(t, env, dir, "config", "--global", "--get", "merge.hush.driver"); got != "hush git merge %O %A %B %P\n" {
		t.Errorf("global merge driver %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".gitattributes")); !os.IsNotExist(err) {
		t.Error("--global wrote .gitattributes")
	}
	if _, err := os.Stat(filepath.Join(home, ".gitconfig")); err != nil {
		t.Errorf("no ~/.gitconfig: %v", err)
	}
}

func TestSetupOutsideRepository(t *testing.T) {
	t.Parallel()
	env, _ := gitEnv(t)
	dir := t.TempDir()
	env = append(env, "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir))
	_, err := Setup(context.Background(), SetupOptions{Dir: dir, Env: env})
	if err == nil || !strings.Contains(err.Error(), "not inside a git work tree") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".gitattributes")); !os.IsNotExist(err) {
		t.Error("wrote .gitattributes outside a repository")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"hush":             "hush",
		"/usr/bin/hush":    "/usr/bin/hush",
		"/a b/hush":        "'/a b/hush'",
		"/it's/hush":       `'/it'\''s/hush'`,
		"$(rm -rf /)/hush": "'$(rm -rf /)/hush'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// ensureLines replaces the file atomically and keeps what a write in place
// kept: the file's mode, and a symbolic link, whose target gets the lines.
// A failed write leaves the old file and no temp file.
func TestEnsureLinesKeepsModeAndLinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "shared-ignore")
	if err := os.WriteFile(real, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(real, 0o664); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, ".gitignore")
	if err := os.Symlink("shared-ignore", link); err != nil {
		t.Fatal(err)
	}
	same := func(line, k string) bool { return line == k }
	id := func(k string) string { return k }
	added, err := ensureLines(link, []string{"*.age.lock"}, id, same)
	if err != nil || !slices.Equal(added, []string{"*.age.lock"}) {
		t.Fatalf("ensureLines = %v, %v", added, err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symbolic link was replaced: %v, %v", fi.Mode(), err)
	}
	if got, _ := os.ReadFile(real); string(got) != "old\n*.age.lock\n" {
		t.Fatalf("linked file = %q", got)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o664 {
		t.Fatalf("mode %04o, want 0664 kept", fi.Mode().Perm())
	}

	atomicfiletest.Inject(t, func(target string, s atomicfile.Step) error {
		if s == atomicfile.StepRename {
			return errors.New("injected")
		}
		return nil
	})
	if _, err := ensureLines(link, []string{"more"}, id, same); err == nil {
		t.Fatal("ensureLines succeeded despite a failed rename")
	}
	if got, _ := os.ReadFile(real); string(got) != "old\n*.age.lock\n" {
		t.Fatalf("after a failed write the file = %q", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}
