package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// homeWithStore makes a private HOME with a store initialised in it and
// returns the environment that points hush at it.
func homeWithStore(t *testing.T) (home string, env []string) {
	t.Helper()
	home = t.TempDir()
	env = []string{"HOME=" + home, "TMPDIR=" + t.TempDir()}
	if _, stderr, code := runHush(t, env, nil, "init"); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	return home, env
}

// TestExecReplacesProcess checks that hush exec is exec(2): the command
// runs as the same process, so a signal sent to "hush" reaches it and its
// exit status is the one the caller sees.
func TestExecReplacesProcess(t *testing.T) {
	t.Parallel()
	_, env := homeWithStore(t)
	cmd := hushCmd(t, env, "exec", "--", "sh", "-c",
		`trap 'exit 42' TERM; echo "$$"; while :; do sleep 0.02; done`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("reading the child's pid: %v (stderr: %s)", err, stderr.Bytes())
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	if pid != cmd.Process.Pid {
		cmd.Process.Kill()
		t.Fatalf("the command runs as pid %d, hush was pid %d: hush forked instead of exec(2)", pid, cmd.Process.Pid)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 42 {
		t.Fatalf("exit: %v, want status 42 from the trap (stderr: %s)", err, stderr.Bytes())
	}
}

// TestTerminalNoEcho types a value on a real pseudo-terminal, after hush
// has turned echo off, and checks that the value never appears on the
// terminal, that it is asked for twice, and that it is stored exactly.
func TestTerminalNoEcho(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("pty helpers are linux-only")
	}
	_, env := homeWithStore(t)
	ctrl, tty := openPTY(t)
	cmd := hushCmd(t, env, "set", "PW")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	screen := startOnTerminal(t, cmd, ctrl, tty)

	const secret = "hunter2-typed-secret"
	for i, prompt := range []string{"enter value for PW: ", "enter value for PW again: "} {
		waitFor(t, func() bool {
			return strings.Count(screen.String(), prompt) > 0 && (i == 0 || strings.Contains(screen.String(), "again"))
		}, "prompt "+strconv.Itoa(i+1), screen)
		waitFor(t, func() bool { return !echoOn(ctrl) }, "echo off", screen)
		if _, err := ctrl.Write([]byte(secret + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("hush set: %v (stderr: %s)", err, stderr.Bytes())
	}
	time.Sleep(50 * time.Millisecond) // let the last output drain
	if s := screen.String(); strings.Contains(s, secret) {
		t.Fatalf("the typed value was echoed to the terminal: %q", s)
	}
	if stdout.Len() != 0 || stderr.Len() != 0 {
		t.Fatalf("set wrote stdout %q, stderr %q", stdout.Bytes(), stderr.Bytes())
	}
	got, _, code := runHush(t, env, nil, "get", "--raw", "PW")
	if code != 0 || string(got) != secret {
		t.Fatalf("get: exit %d, value %q", code, got)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, cond func() bool, what string, screen *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; terminal so far: %q", what, screen.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openPTY opens a pseudo-terminal pair (linux).
func openPTY(t *testing.T) (ctrl, tty *os.File) {
	t.Helper()
	ctrl, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { ctrl.Close() })
	var n uint32
	if err := ioctl(ctrl.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); err != nil {
		t.Fatal(err)
	}
	var unlock int32
	if err := ioctl(ctrl.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ctrl, tty
}

func ioctl(fd, req, arg uintptr) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, req, arg); e != 0 {
		return e
	}
	return nil
}

// startOnTerminal starts cmd as a session leader whose controlling
// terminal, and standard input, is tty; closes tty (the child has it);
// and returns the screen: everything written to the terminal, read from
// ctrl. Set cmd's other streams before.
func startOnTerminal(t *testing.T, cmd *exec.Cmd, ctrl, tty *os.File) *syncBuffer {
	t.Helper()
	cmd.Stdin = tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	screen := &syncBuffer{}
	go io.Copy(screen, ctrl)
	return screen
}

// echoOn reports whether the terminal behind the pty master echoes input.
func echoOn(ctrl *os.File) bool {
	var tio syscall.Termios
	if err := ioctl(ctrl.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tio))); err != nil {
		return true
	}
	return tio.Lflag&syscall.ECHO != 0
}

// TestTerminalInterrupt sends SIGINT while hush waits for a value with
// echo off: hush must restore the terminal's echo, write nothing and exit 1.
func TestTerminalInterrupt(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("pty helpers are linux-only")
	}
	home, env := homeWithStore(t)
	storePath := home + "/.local/share/hush/store.age"
	before, err := os.ReadFile(storePath)
	if err != nil {
		t.Fatal(err)
	}
	ctrl, tty := openPTY(t)
	cmd := hushCmd(t, env, "set", "PW")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	screen := startOnTerminal(t, cmd, ctrl, tty)
	waitFor(t, func() bool { return strings.Contains(screen.String(), "enter value for PW: ") }, "the prompt", screen)
	waitFor(t, func() bool { return !echoOn(ctrl) }, "echo off", screen)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1 (stderr: %s)", err, stderr.Bytes())
	}
	if !strings.Contains(stderr.String(), "hush: interrupted; nothing was written") {
		t.Errorf("stderr: %q", stderr.Bytes())
	}
	if !echoOn(ctrl) {
		t.Error("the terminal was left with echo off")
	}
	if after, _ := os.ReadFile(storePath); !bytes.Equal(before, after) {
		t.Error("the store changed")
	}
}
