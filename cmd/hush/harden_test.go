package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSIGQUITWritesNoCore: hush holding part of a value (set, waiting for
// the rest on standard input) gets SIGQUIT with GOTRACEBACK=crash and a
// core limit of unlimited: no core file holds the value (it wrote one,
// where core_pattern names a file). /proc shows the core limit at 0.
func TestSIGQUITWritesNoCore(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/kernel/core_pattern"); err != nil || strings.HasPrefix(string(b), "|") {
		t.Skipf("core_pattern %q pipes cores to a program: the test cannot look for the file", b)
	}
	_, env := homeWithStore(t)
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `ulimit -c unlimited && exec "$0" "$@"`, os.Args[0], "set", "CANARY")
	cmd.Env = append([]string{"HUSH_TEST_MAIN=1", "GOTRACEBACK=crash", "PATH=" + os.Getenv("PATH")}, env...)
	cmd.Dir = dir
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if _, err := in.Write([]byte("canary-value-in-memory")); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Wait for sh to exec hush, and hush to read standard input.
	proc := "/proc/" + strconv.Itoa(cmd.Process.Pid)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if exe, _ := os.Readlink(proc + "/exe"); exe == self && waitingOnPipe(proc) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hush did not come to wait on standard input; stderr: %s", stderr.Bytes())
		}
		time.Sleep(10 * time.Millisecond)
	}
	limits, _ := os.ReadFile(proc + "/limits")
	if !regexp.MustCompile(`(?m)^Max core file size\s+0\s`).Match(limits) {
		t.Errorf("hush may dump core:\n%s", limits)
	}
	cmd.Process.Signal(syscall.SIGQUIT)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("hush survived SIGQUIT: %v", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.CoreDump() {
		t.Errorf("hush dumped core on SIGQUIT (%v)", ws)
	}
	cores, _ := filepath.Glob(filepath.Join(dir, "core*"))
	for _, c := range cores {
		os.Remove(c)
	}
	if len(cores) > 0 {
		t.Errorf("core files written: %q", cores)
	}
}

// waitingOnPipe reports whether a thread of the process at proc sleeps in
// a pipe read.
func waitingOnPipe(proc string) bool {
	tasks, _ := filepath.Glob(proc + "/task/*/wchan")
	for _, w := range tasks {
		if b, _ := os.ReadFile(w); strings.Contains(string(b), "pipe") {
			return true
		}
	}
	return false
}

// TestRunHardens: run leaves the process not dumpable with a core limit
// of 0, whatever the command.
func TestRunHardens(t *testing.T) {
	run([]string{"version"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, nil)
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil || d != 0 {
		t.Errorf("PR_GET_DUMPABLE = %d, %v; want 0", d, err)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil || lim.Cur != 0 {
		t.Errorf("RLIMIT_CORE = %+v, %v; want a soft limit of 0", lim, err)
	}
}

// TestExecKeepsCoreLimit: hush exec hands the command the core limit hush
// was given, not its own 0.
func TestExecKeepsCoreLimit(t *testing.T) {
	_, env := homeWithStore(t)
	cmd := exec.Command("sh", "-c", `ulimit -c 12345 && exec "$0" "$@"`, os.Args[0], "exec", "--", "sh", "-c", "ulimit -c")
	cmd.Env = append([]string{"HUSH_TEST_MAIN=1", "PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "12345" {
		t.Errorf("ulimit -c under hush exec = %q, %v; want 12345", out, err)
	}
}
