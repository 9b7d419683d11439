package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// The hush binary under test is this test binary: testscript.Main installs
// it as "hush" on the scripts' PATH, and other tests run it as a child
// process with HUSH_TEST_MAIN=1. Either way it calls hushMain.
func TestMain(m *testing.M) {
	if os.Getenv("HUSH_TEST_MAIN") == "1" {
		hushMain()
	}
	// A -race binary sleeps a second at exit unless told otherwise; the
	// scripts start hundreds of them. (testscript passes GORACE on.)
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	testscript.Main(m, map[string]func(){"hush": hushMain})
}

// exitCodeEnv names the file in which a hush child records its exit code
// for the script command `exitcode`.
const exitCodeEnv = "HUSH_TEST_EXITCODE_FILE"

// hushMain runs hush as main does, with test-only settings: a cheap scrypt
// work factor, no controlling terminal unless the test gave one (so a
// developer's terminal never receives a prompt), and the exit code
// recorded for `exitcode`.
func hushMain() {
	syscall.Setsid() // fails, harmlessly, when ttyin already made us a session leader
	scryptWorkFactor = 10
	codeFile := os.Getenv(exitCodeEnv)
	if codeFile != "" {
		if b, err := os.ReadFile(codeFile); err == nil && strings.TrimSpace(string(b)) != "0" {
			fmt.Fprintf(os.Stderr, "hush-test: the previous hush exited %s and no `exitcode` checked it\n", strings.TrimSpace(string(b)))
			os.Exit(99)
		}
		os.Remove(codeFile) // exec replaces the process and records nothing
	}
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	if codeFile != "" {
		os.WriteFile(codeFile, []byte(strconv.Itoa(code)), 0o600)
	}
	os.Exit(code)
}

func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup:               setupScript,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exitcode":  checkExitCode,
			"snapshot":  snapshotFiles,
			"unchanged": checkUnchanged,
			"envfile":   setEnvFromFile,
			"mode":      checkMode,
			"toolhive":  writeToolHiveStore,
			"asuser":    runAsUser,
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "age":
				return ageTools() == nil, nil
			case "root": // can give files to another uid (chown)
				return os.Geteuid() == 0, nil
			case "otheruser": // can run hush as another uid (asuser)
				return os.Geteuid() == 0 && runtime.GOOS == "linux", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

// setupScript gives each script a private HOME with the XDG defaults
// under it, a store path, and the age tools on PATH when available.
func setupScript(e *testscript.Env) error {
	home := filepath.Join(e.WorkDir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		return err
	}
	state := filepath.Join(e.WorkDir, ".hushtest")
	if err := os.Mkdir(state, 0o700); err != nil {
		return err
	}
	e.Setenv("HOME", home)
	e.Setenv("STORE", filepath.Join(home, ".local", "share", "hush", "store.age"))
	e.Setenv("IDENTITY", filepath.Join(home, ".config", "hush", "identity.txt"))
	e.Setenv(exitCodeEnv, filepath.Join(state, "exitcode"))
	if dir, err := ageToolsDir(); err == nil && dir != "" {
		e.Setenv("PATH", e.Getenv("PATH")+string(os.PathListSeparator)+dir)
	}
	e.Defer(func() {
		if b, err := os.ReadFile(filepath.Join(state, "exitcode")); err == nil && strings.TrimSpace(string(b)) != "0" {
			e.T().Fatal("the last hush exited " + strings.TrimSpace(string(b)) + " and no `exitcode` checked it")
		}
	})
	return nil
}

// exitcode N: the last hush exited with code N. Every failing hush must be
// followed by one (the next hush, or the end of the script, fails
// otherwise).
func checkExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: exitcode N")
	}
	f := ts.Getenv(exitCodeEnv)
	b, err := os.ReadFile(f)
	if err != nil {
		ts.Fatalf("no hush exit code recorded (did hush exec replace itself?)")
	}
	os.Remove(f)
	if got := strings.TrimSpace(string(b)); got != args[0] {
		ts.Fatalf("hush exited %s, want %s", got, args[0])
	}
}

// snapshot records the content and mode of every file under $HOME (the
// store, its lock, identities) and $WORK (outputs). unchanged checks that
// nothing was added, removed or changed since (`! unchanged`: something was).
func snapshotFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: snapshot")
	}
	ts.Check(os.WriteFile(filepath.Join(ts.Getenv("WORK"), ".hushtest", "snapshot"), []byte(treeState(ts)), 0o600))
}

// unchanged: see snapshot.
func checkUnchanged(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 0 {
		ts.Fatalf("usage: unchanged")
	}
	old, err := os.ReadFile(filepath.Join(ts.Getenv("WORK"), ".hushtest", "snapshot"))
	if err != nil {
		ts.Fatalf("unchanged needs a snapshot first")
	}
	now := treeState(ts)
	same := string(old) == now
	switch {
	case neg && same:
		ts.Fatalf("nothing changed")
	case !neg && !same:
		ts.Fatalf("files changed:\nbefore:\n%s\nafter:\n%s", old, now)
	}
}

// treeState lists every file under $WORK, except the test's own state,
// with its mode and a hash of its content (of a regular file), one a line,
// sorted.
func treeState(ts *testscript.TestScript) string {
	var lines []string
	work := ts.Getenv("WORK")
	err := filepath.WalkDir(work, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(work, p)
		if d.IsDir() {
			if rel == ".hushtest" || rel == ".tmp" {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var sum [sha256.Size]byte
		if info.Mode().IsRegular() { // a FIFO or device is listed by its mode only
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum = sha256.Sum256(b)
		}
		lines = append(lines, fmt.Sprintf("%s %v %s", rel, info.Mode(), hex.EncodeToString(sum[:8])))
		return nil
	})
	ts.Check(err)
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// envfile VAR FILE sets VAR to the exact contents of FILE (for key text
// in HUSH_IDENTITY).
func setEnvFromFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envfile VAR FILE")
	}
	ts.Setenv(args[0], ts.ReadFile(args[1]))
}

// mode PERM FILE checks a file's permission bits, e.g. mode 0600 out.
func checkMode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mode PERM FILE")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	if got := fi.Mode().Perm(); got != fs.FileMode(want) {
		ts.Fatalf("%s has mode %04o, want %04o", args[1], got, want)
	}
}

// ageTools makes sure age, age-keygen and age-plugin-batchpass are on
// PATH, installing them into a temporary GOBIN (once) when missing.
var ageToolsDir = sync.OnceValues(func() (string, error) {
	if _, err := exec.LookPath("age"); err == nil {
		if _, err := exec.LookPath("age-keygen"); err == nil {
			return "", nil
		}
	}
	// A stable directory, so the tools are built once per machine.
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "hush-test", "age-v1.3.2")
	if _, err := os.Stat(filepath.Join(dir, "age-keygen")); err == nil {
		return dir, nil
	}
	cmd := exec.Command("go", "install", "filippo.io/age/cmd/...@v1.3.2")
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("installing the age CLI: %v\n%s", err, out)
	}
	return dir, nil
})

func ageTools() error {
	_, err := ageToolsDir()
	return err
}

// hushCmd returns a command running hush (this test binary) with args, in
// environment env (HOME and friends), with no controlling terminal.
func hushCmd(t testing.TB, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append([]string{"HUSH_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "GORACE=" + os.Getenv("GORACE")}, env...)
	return cmd
}

// runHush runs hush to completion and returns stdout, stderr and the exit code.
func runHush(t testing.TB, env []string, stdin []byte, args ...string) (stdout, stderr []byte, code int) {
	t.Helper()
	cmd := hushCmd(t, env, args...)
	var o, e bytes.Buffer
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("hush %v: %v", args, err)
	}
	return o.Bytes(), e.Bytes(), code
}

// toolhive PASSWORD IN OUT writes OUT as ToolHive's encrypted store of the
// JSON document IN: AES-256-GCM, key SHA-256(PASSWORD), nonce || ciphertext || tag.
func writeToolHiveStore(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: toolhive PASSWORD IN OUT")
	}
	key := sha256.Sum256([]byte(args[0]))
	block, err := aes.NewCipher(key[:])
	ts.Check(err)
	gcm, err := cipher.NewGCM(block)
	ts.Check(err)
	nonce := make([]byte, gcm.NonceSize())
	_, err = rand.Read(nonce)
	ts.Check(err)
	out := gcm.Seal(nonce, nonce, []byte(ts.ReadFile(args[1])), nil)
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), out, 0o600))
}
