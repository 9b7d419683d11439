package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// agentHome makes a HOME with a passphrase-protected default identity
// and a store encrypted to it, and a private XDG_RUNTIME_DIR.
func agentHome(t *testing.T) (env []string, run string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the agent needs linux")
	}
	home := t.TempDir()
	run = t.TempDir()
	env = []string{"HOME=" + home, "TMPDIR=" + t.TempDir(), "XDG_RUNTIME_DIR=" + run}
	pub, stderr, code := runHush(t, env, []byte("s3cret\n"), "keygen", "--passphrase")
	if code != 0 {
		t.Fatalf("keygen: %s", stderr)
	}
	if _, stderr, code := runHush(t, env, nil, "init", "-r", strings.TrimSpace(string(pub))); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	return env, run
}

// startAgent runs `hush agent start` on a pseudo-terminal, types the
// passphrase at its one prompt, and returns the agent's pid. The agent
// is stopped when the test ends.
func startAgent(t *testing.T, env []string, args ...string) int {
	t.Helper()
	ctrl, tty := openPTY(t)
	cmd := hushCmd(t, env, append([]string{"agent", "start"}, args...)...)
	// Allow core dumps, so that the agent has to forbid them itself.
	cmd.Args = append([]string{"sh", "-c", `ulimit -c unlimited 2>/dev/null; exec "$0" "$@"`}, cmd.Args...)
	if cmd.Path, cmd.Err = exec.LookPath("sh"); cmd.Err != nil {
		t.Fatal(cmd.Err)
	}
	cmd.Stdout = tty
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	screen := startOnTerminal(t, cmd, ctrl, tty)
	waitFor(t, func() bool { return strings.Contains(screen.String(), "passphrase for identity file") }, "the prompt", screen)
	waitFor(t, func() bool { return !echoOn(ctrl) }, "echo off", screen)
	ctrl.Write([]byte("s3cret\n"))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("agent start: %v: %s", err, stderr.Bytes())
	}
	t.Cleanup(func() { runHush(t, env, nil, "agent", "stop") })
	m := regexp.MustCompile(`agent started \(pid (\d+)\)`).FindSubmatch(stderr.Bytes())
	if m == nil {
		t.Fatalf("agent start said %q", stderr.Bytes())
	}
	if n := strings.Count(screen.String(), "passphrase for"); n != 1 {
		t.Fatalf("%d prompts on the terminal, want 1: %q", n, screen.String())
	}
	pid, _ := strconv.Atoi(string(m[1]))
	return pid
}

// TestAgentHardened checks that the agent cannot dump core and is not
// dumpable (which also bars ptrace and /proc/PID/mem to the same user).
func TestAgentHardened(t *testing.T) {
	t.Parallel()
	env, _ := agentHome(t)
	pid := startAgent(t, env)
	limits, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^Max core file size\s+0\s+0\s`).Match(limits) {
		t.Errorf("the agent may dump core:\n%s", limits)
	}
	// A process that is not dumpable has its /proc files owned by root;
	// the agent itself reads PR_GET_DUMPABLE for status.
	if os.Getuid() != 0 {
		var st syscall.Stat_t
		if err := syscall.Stat("/proc/"+strconv.Itoa(pid)+"/environ", &st); err != nil || st.Uid != 0 {
			t.Errorf("/proc/%d/environ is owned by uid %d: the agent is dumpable", pid, st.Uid)
		}
	}
	out, stderr, code := runHush(t, env, nil, "agent", "status")
	if code != 0 || bytes.Contains(out, []byte("dumpable")) {
		t.Errorf("status: exit %d\n%s%s", code, out, stderr)
	}
}

// TestAgentUntrustedSocket checks that a socket directory with loose
// permissions or another owner, and a dead agent's socket, are ignored
// with one warning, and that the command falls back to prompting (which,
// without a terminal, fails with exit 5).
func TestAgentUntrustedSocket(t *testing.T) {
	t.Parallel()
	env, run := agentHome(t)
	pid := startAgent(t, env)
	dir := filepath.Join(run, "hush")
	expect := func(what string, code int, warning string) {
		t.Helper()
		_, stderr, got := runHush(t, env, nil, "ls")
		if got != code {
			t.Fatalf("%s: ls exit %d, want %d: %s", what, got, code, stderr)
		}
		if warning == "" {
			if len(stderr) != 0 {
				t.Fatalf("%s: stderr %q", what, stderr)
			}
			return
		}
		if n := strings.Count(string(stderr), "hush: warning: ignoring the agent: "); n != 1 {
			t.Fatalf("%s: %d warnings, want 1: %s", what, n, stderr)
		}
		if !strings.Contains(string(stderr), warning) || !strings.Contains(string(stderr), "no terminal to ask on") {
			t.Fatalf("%s: stderr %s, want %q and a prompt", what, stderr, warning)
		}
	}
	expect("the agent", 0, "")

	os.Chmod(dir, 0o755)
	expect("a 0755 directory", 5, "has mode 0755; it must be 0700")
	os.Chmod(dir, 0o700)
	expect("the agent again", 0, "")

	if os.Getuid() == 0 {
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		expect("a directory owned by uid 65534", 5, "is owned by uid 65534, not by you")
		os.Chown(dir, 0, 0)
		sock := filepath.Join(dir, "agent.sock")
		os.Lchown(sock, 65534, 65534)
		expect("a socket owned by uid 65534", 5, "socket "+sock+" is owned by uid 65534")
		os.Lchown(sock, 0, 0)
		expect("the agent again", 0, "")
	} else {
		t.Log("not root: skipping the sockets owned by another uid")
	}

	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, func() bool {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		return err != nil || bytes.Contains(stat, []byte(") Z ")) // gone, or a zombie nobody reaped yet
	}, "the agent to die", &syncBuffer{})
	expect("a dead agent's socket", 5, "connection refused")

	// Planted at the socket's path: a regular file, a FIFO (opening it
	// would block), a symlink to a socket, a socket nobody listens on.
	sock := filepath.Join(dir, "agent.sock")
	os.Remove(sock)
	if err := os.WriteFile(sock, []byte(`{"version":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	expect("a regular file", 5, sock+" is not a socket")
	os.Remove(sock)
	if err := syscall.Mkfifo(sock, 0o600); err != nil {
		t.Fatal(err)
	}
	expect("a FIFO", 5, sock+" is not a socket")
	os.Remove(sock)
	other := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", other)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Symlink(other, sock); err != nil {
		t.Fatal(err)
	}
	expect("a symlink to a socket", 5, sock+" is not a socket")
	os.Remove(sock)
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	expect("a stale socket", 5, "connection refused")
	// and a symlinked directory
	os.Remove(sock)
	os.Remove(dir)
	if err := os.Symlink(t.TempDir(), dir); err != nil {
		t.Fatal(err)
	}
	expect("a symlinked directory", 5, "is not a directory")
}
