package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// leftOnTerminal reads, without waiting for a newline, what is still
// queued as input on the terminal keep (a descriptor of the pty's slave
// side): what a shell would read and run once hush exits.
func leftOnTerminal(t *testing.T, keep int) string {
	t.Helper()
	var tio syscall.Termios
	if err := ioctl(uintptr(keep), syscall.TCGETS, uintptr(unsafe.Pointer(&tio))); err != nil {
		t.Fatal(err)
	}
	tio.Lflag &^= syscall.ICANON | syscall.ECHO
	tio.Cc[syscall.VMIN], tio.Cc[syscall.VTIME] = 0, 2 // 200ms
	if err := ioctl(uintptr(keep), syscall.TCSETS, uintptr(unsafe.Pointer(&tio))); err != nil {
		t.Fatal(err)
	}
	var left []byte
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(keep, buf)
		if n <= 0 || err != nil {
			return string(left)
		}
		left = append(left, buf[:n]...)
	}
}

// startKept is startOnTerminal that keeps a descriptor of the terminal
// (the shell's, in life) to look at its input queue after hush exits.
func startKept(t *testing.T, cmd *exec.Cmd, ctrl, tty *os.File) (*syncBuffer, int) {
	t.Helper()
	keep, err := syscall.Dup(int(tty.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(keep) })
	return startOnTerminal(t, cmd, ctrl, tty), keep
}

// waitExit waits at most 20s for cmd and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd, screen *syncBuffer) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("hush still waits after 20s; terminal: %q", screen.String())
		return -1
	}
}

// TestMultiLinePasteAtPromptConsumed pastes several lines at the value
// prompt of hush set on a real terminal. Before, hush read one line per
// prompt and left the others in the terminal's input queue, where the
// shell read them as commands (and put them in its history) once hush
// exited. Now the whole paste is read, refused with a hint, nothing is
// written, and nothing is left on the terminal.
func TestMultiLinePasteAtPromptConsumed(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("pty helpers are linux-only")
	}
	home, env := homeWithStore(t)
	storePath := home + "/.local/share/hush/store.age"
	for _, tc := range []struct {
		name  string
		typed string // typed at the first prompt, "" to paste there
		paste string
	}{
		{"at the first prompt", "", "-----BEGIN KEY-----\nrm -rf ~/important\necho pwned > /tmp/x\n-----END KEY-----\n"},
		{"without a last newline", "", "line one\nline two\nline three"},
		{"at the second prompt", "line one\n", "line one\ntouch /tmp/pwned\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := os.ReadFile(storePath)
			if err != nil {
				t.Fatal(err)
			}
			ctrl, tty := openPTY(t)
			cmd := hushCmd(t, env, "set", "PEM")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			screen, keep := startKept(t, cmd, ctrl, tty)
			defer cmd.Process.Kill()
			waitFor(t, func() bool { return strings.Contains(screen.String(), "enter value for PEM: ") }, "the prompt", screen)
			waitFor(t, func() bool { return !echoOn(ctrl) }, "echo off", screen)
			if tc.typed != "" {
				ctrl.Write([]byte(tc.typed))
				waitFor(t, func() bool { return strings.Contains(screen.String(), "again: ") }, "the second prompt", screen)
				waitFor(t, func() bool { return !echoOn(ctrl) }, "echo off", screen)
			}
			ctrl.Write([]byte(tc.paste))
			if code := waitExit(t, cmd, screen); code != 1 {
				t.Fatalf("exit %d, want 1 (stderr: %s)", code, stderr.Bytes())
			}
			if !echoOn(ctrl) {
				t.Error("the terminal was left with echo off")
			}
			if left := leftOnTerminal(t, keep); left != "" {
				t.Fatalf("left on the terminal for the shell to run: %q", left)
			}
			if !strings.Contains(stderr.String(), "hush: value for PEM: several lines were pasted at the prompt; all of them were read and discarded, nothing was written\n") ||
				!strings.Contains(stderr.String(), "hush: hint: for a value of several lines use --from-file FILE, or pipe it") {
				t.Errorf("stderr: %s", stderr.Bytes())
			}
			if strings.Contains(stderr.String()+screen.String(), "pwned") || strings.Contains(stderr.String()+screen.String(), "line two") {
				t.Errorf("the paste was shown: stderr %q, terminal %q", stderr.Bytes(), screen.String())
			}
			if after, _ := os.ReadFile(storePath); !bytes.Equal(before, after) {
				t.Error("the store changed")
			}
		})
	}
}

// TestInvalidNameRefusedBeforePrompt runs hush set (and the other
// commands that take a NAME and write) with an invalid name on a terminal,
// with a passphrase-protected identity. Before, set, rm and mv asked for
// the passphrase (and set for the value) first and only then said the name
// was invalid; now each exits 2 at once, having asked for nothing.
func TestInvalidNameRefusedBeforePrompt(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("pty helpers are linux-only")
	}
	_, env, idPath := homeWithPassphraseRecipient(t)
	for _, args := range [][]string{
		{"set", "BAD NAME"}, {"set", "A\u200bB"}, {"set", ""},
		{"rm", "OK", "BAD NAME"}, {"mv", "OK", "A\u202eB"}, {"generate", "BAD NAME"}, {"edit", "BAD NAME"},
	} {
		name := strings.Join(args, " ")
		ctrl, tty := openPTY(t)
		cmd := hushCmd(t, env, append([]string{"-i", idPath}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		screen := startOnTerminal(t, cmd, ctrl, tty)
		if code := waitExit(t, cmd, screen); code != 2 {
			t.Fatalf("set %q: exit %d, want 2 (stderr: %s)", name, code, stderr.Bytes())
		}
		time.Sleep(50 * time.Millisecond) // let the last output drain
		if s := screen.String(); s != "" {
			t.Errorf("set %q prompted: %q", name, s)
		}
		if !strings.Contains(stderr.String(), "invalid secret name") {
			t.Errorf("set %q: stderr %s", name, stderr.Bytes())
		}
	}
}

// TestFromFileStdinOnTerminalNoEcho types a value of several lines for
// hush set --from-file - on a real terminal. Before, the terminal echoed
// it as it was typed; now echo is off, and the exact bytes are stored.
func TestFromFileStdinOnTerminalNoEcho(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("pty helpers are linux-only")
	}
	_, env := homeWithStore(t)
	ctrl, tty := openPTY(t)
	cmd := hushCmd(t, env, "set", "--from-file", "-", "KEY")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	screen := startOnTerminal(t, cmd, ctrl, tty)
	defer cmd.Process.Kill()
	waitFor(t, func() bool { return strings.Contains(screen.String(), "Ctrl-D") }, "the prompt", screen)
	waitFor(t, func() bool { return !echoOn(ctrl) }, "echo off", screen)
	const secret = "first-typed-line\nsecond-typed-line\n"
	ctrl.Write([]byte(secret))
	ctrl.Write([]byte{4}) // ^D
	if code := waitExit(t, cmd, screen); code != 0 {
		t.Fatalf("exit %d (stderr: %s)", code, stderr.Bytes())
	}
	time.Sleep(50 * time.Millisecond)
	if s := screen.String(); strings.Contains(s, "typed-line") {
		t.Fatalf("the typed value was echoed: %q", s)
	}
	if !echoOn(ctrl) {
		t.Error("the terminal was left with echo off")
	}
	got, _, code := runHush(t, env, nil, "get", "--raw", "KEY")
	if code != 0 || string(got) != secret {
		t.Fatalf("get: exit %d, value %q, want %q", code, got, secret)
	}
}
