package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/internal/atomicfile/atomicfiletest"
)

// childTB stands in for a test in a hush child process, for the one call
// of atomicfiletest.Inject below; the child never ends the hook.
type childTB struct{ testing.TB }

func (childTB) Helper()        {}
func (childTB) Cleanup(func()) {}

// A hush child started with HUSH_TEST_HANG_AT=STEP stops for good right
// before that step of every atomicfile write, once it has created the file
// named by HUSH_TEST_HANG_READY: a test kills it there.
func init() {
	at := os.Getenv("HUSH_TEST_HANG_AT")
	if at == "" {
		return
	}
	atomicfiletest.Inject(childTB{}, func(_ string, s atomicfile.Step) error {
		if string(s) == at {
			os.WriteFile(os.Getenv("HUSH_TEST_HANG_READY"), nil, 0o600)
			time.Sleep(time.Hour)
		}
		return nil
	})
}

// TestGetOutputKilledLeavesNoPlaintext kills `hush get -o FILE` (SIGINT,
// SIGTERM, SIGKILL) after it wrote the secret to its temp file and before
// the rename. Before, the temp file (.FILE.tmp-<hex>, the whole secret in
// plaintext) stayed in the directory and nothing removed it; now the temp
// file has no name until the rename, so the directory holds only what it
// held before.
func TestGetOutputKilledLeavesNoPlaintext(t *testing.T) {
	t.Parallel()
	testOutputKilled(t, func(out string) []string { return []string{"get", "-o", out, "K"} })
}

// TestExportOutputKilledLeavesNoPlaintext: the same for `hush export -o`,
// whose file holds every value.
func TestExportOutputKilledLeavesNoPlaintext(t *testing.T) {
	t.Parallel()
	testOutputKilled(t, func(out string) []string { return []string{"export", "-o", out} })
}

// TestRenderOutputKilledLeavesNoPlaintext: the same for `hush render -o`.
func TestRenderOutputKilledLeavesNoPlaintext(t *testing.T) {
	t.Parallel()
	tpl := filepath.Join(t.TempDir(), "tpl")
	os.WriteFile(tpl, []byte("k={{ hush://K }}\n"), 0o600)
	testOutputKilled(t, func(out string) []string { return []string{"render", "-o", out, tpl} })
}

// testOutputKilled runs the hush command args(FILE) that writes the
// secret K to FILE, kills it at each step of the write with each signal,
// and checks the directory holds what it held before.
func testOutputKilled(t *testing.T, args func(out string) []string) {
	if runtime.GOOS != "linux" {
		t.Skip("unnamed temp files are linux-only")
	}
	const secret = "plaintext-canary-3f9a"
	_, env := homeWithStore(t)
	if _, stderr, code := runHush(t, env, []byte(secret), "set", "K"); code != 0 {
		t.Fatalf("set: exit %d: %s", code, stderr)
	}
	for _, step := range []atomicfile.Step{atomicfile.StepSync, atomicfile.StepRename} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
			for _, existing := range []bool{false, true} {
				name := string(step) + "/" + sig.String()
				if existing {
					name += "/over an old file"
				}
				t.Run(name, func(t *testing.T) {
					dir := t.TempDir()
					out := filepath.Join(dir, "out.txt")
					if existing {
						os.WriteFile(out, []byte("old"), 0o600)
					}
					ready := filepath.Join(t.TempDir(), "ready")
					cmd := hushCmd(t, append(env, "HUSH_TEST_HANG_AT="+string(step), "HUSH_TEST_HANG_READY="+ready), args(out)...)
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					defer cmd.Process.Kill()
					waitFor(t, func() bool { _, err := os.Stat(ready); return err == nil }, "hush to reach "+string(step), &syncBuffer{})
					cmd.Process.Signal(sig)
					err := cmd.Wait()
					if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
						t.Fatalf("hush %s: %v, want killed by %v", strings.Join(args(out), " "), err, sig)
					}
					entries, _ := os.ReadDir(dir)
					var names []string
					for _, e := range entries {
						names = append(names, e.Name())
						if b, _ := os.ReadFile(filepath.Join(dir, e.Name())); strings.Contains(string(b), secret) {
							t.Errorf("%s holds the secret", e.Name())
						}
					}
					want := ""
					if existing {
						want = "out.txt"
						if b, _ := os.ReadFile(out); string(b) != "old" {
							t.Errorf("out.txt holds %q, want the old content", b)
						}
					}
					if got := strings.Join(names, " "); got != want {
						t.Errorf("the directory holds %q, want %q", got, want)
					}
				})
			}
		}
	}
}

// TestGetOutputRemovesStaleTemp: a temp file a killed get -o (or
// export -o) left (it can only be left between the link and the rename)
// is removed by the next one to the same file once it is a minute old,
// and not before.
func TestGetOutputRemovesStaleTemp(t *testing.T) {
	t.Parallel()
	_, env := homeWithStore(t)
	if _, stderr, code := runHush(t, env, []byte("v"), "set", "K"); code != 0 {
		t.Fatalf("set: exit %d: %s", code, stderr)
	}
	for _, args := range [][]string{{"get", "-o", "OUT", "K"}, {"export", "-o", "OUT"}} {
		t.Run(args[0], func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.txt")
			stale := filepath.Join(dir, atomicfile.TempPrefix(out)+"0123456789abcdef")
			fresh := filepath.Join(dir, atomicfile.TempPrefix(out)+"fedcba9876543210")
			other := filepath.Join(dir, atomicfile.TempPrefix(filepath.Join(dir, "else"))+"0123456789abcdef")
			for _, p := range []string{stale, fresh, other} {
				os.WriteFile(p, []byte("v"), 0o600)
			}
			old := time.Now().Add(-2 * time.Minute)
			os.Chtimes(stale, old, old)
			os.Chtimes(other, old, old)
			args[2] = out
			if _, stderr, code := runHush(t, env, nil, args...); code != 0 {
				t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
			}
			for p, want := range map[string]bool{stale: false, fresh: true, other: true, out: true} {
				if _, err := os.Stat(p); (err == nil) != want {
					t.Errorf("%s: exists %v, want %v", filepath.Base(p), err == nil, want)
				}
			}
		})
	}
}
