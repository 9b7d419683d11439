package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPromptHoldsNoLock leaves one hush set sitting at a prompt on a real
// terminal, first at the passphrase of its identity, then at the value,
// and checks that another writer meanwhile writes at once: every prompt
// comes before the store's lock is taken. The waiting set then completes
// on top of the other writer's change.
func TestPromptHoldsNoLock(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("pty helpers are linux-only")
	}
	_, env, idPath := homeWithPassphraseRecipient(t)

	for _, tc := range []struct {
		name     string
		valueTTY bool   // the value is typed at the terminal, else piped
		waitAt   string // the prompt the person sits at while the other writes
	}{
		{"passphrase", false, "hush: passphrase for identity file " + idPath + ": "},
		{"value", true, "enter value for SLOW again: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctrl, tty := openPTY(t)
			cmd := hushCmd(t, env, "-i", idPath, "set", "SLOW")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			var screen *syncBuffer
			if tc.valueTTY {
				screen = startOnTerminal(t, cmd, ctrl, tty)
			} else {
				// The value is piped; the terminal is only the
				// controlling one, for the passphrase.
				cmd.Stdin = strings.NewReader("piped value\n")
				cmd.ExtraFiles = []*os.File{tty} // fd 3
				cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				tty.Close()
				screen = &syncBuffer{}
				go io.Copy(screen, ctrl)
			}
			defer cmd.Process.Kill()
			answer := func(prompt, line string) {
				t.Helper()
				waitFor(t, func() bool { return strings.Contains(screen.String(), prompt) }, "the prompt "+prompt, screen)
				waitFor(t, func() bool { return !echoOn(ctrl) }, "echo off", screen)
				if _, err := ctrl.Write([]byte(line + "\n")); err != nil {
					t.Fatal(err)
				}
			}
			if tc.valueTTY {
				answer("hush: passphrase for identity file ", "tr0ub4dor&3")
				answer("enter value for SLOW: ", "typed value")
			}
			waitFor(t, func() bool { return strings.Contains(screen.String(), tc.waitAt) }, "the prompt "+tc.waitAt, screen)

			// The other writer uses the plain identity and gives up on
			// the lock after a second: exit 6 if the prompt held it.
			start := time.Now()
			_, otherErr, code := runHush(t, env, []byte("other"), "--lock-timeout", "1s", "set", "OTHER_"+tc.name)
			if code != 0 {
				t.Fatalf("a writer while hush set sits at the %s prompt: exit %d after %v: %s", tc.name, code, time.Since(start), otherErr)
			}

			if tc.valueTTY {
				answer(tc.waitAt, "typed value")
			} else {
				answer(tc.waitAt, "tr0ub4dor&3")
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("hush set: %v (stderr: %s)", err, stderr.Bytes())
			}
			if n := strings.Count(screen.String(), "hush: passphrase for identity file"); n != 1 {
				t.Errorf("the passphrase was asked %d times, want 1; terminal: %q", n, screen.String())
			}
			want := map[string]string{"SLOW": "piped value", "OTHER_" + tc.name: "other"}
			if tc.valueTTY {
				want["SLOW"] = "typed value"
			}
			for name, value := range want {
				got, stderr, code := runHush(t, env, nil, "get", "--raw", name)
				if code != 0 || string(got) != value {
					t.Errorf("get %s: exit %d, value %q, want %q (stderr: %s)", name, code, got, value, stderr)
				}
			}
		})
	}
}

// TestCompletionNeverPrompts runs completion on a real terminal with a
// passphrase-encrypted identity: it must not ask (the shell would hang at
// every tab), and it offers no names.
func TestCompletionNeverPrompts(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("pty helpers are linux-only")
	}
	_, env, idPath := homeWithPassphraseRecipient(t)
	if _, stderr, code := runHush(t, env, []byte("v"), "set", "VISIBLE"); code != 0 {
		t.Fatalf("set: exit %d: %s", code, stderr)
	}
	ctrl, tty := openPTY(t)
	cmd := hushCmd(t, env, "-i", idPath, "__complete", "get", "")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = io.Discard
	screen := startOnTerminal(t, cmd, ctrl, tty)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("completion: %v", err)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("completion waited (for a passphrase?); terminal: %q", screen.String())
	}
	time.Sleep(50 * time.Millisecond) // let the last output drain
	if s := screen.String(); s != "" {
		t.Errorf("completion wrote to the terminal: %q", s)
	}
	if got := stdout.String(); got != ":4\n" {
		t.Errorf("completion printed %q, want no names and the no-file directive", got)
	}
}

// homeWithPassphraseRecipient is homeWithStore plus a second identity,
// passphrase-encrypted (tr0ub4dor&3) at idPath, added as a recipient.
func homeWithPassphraseRecipient(t *testing.T) (home string, env []string, idPath string) {
	t.Helper()
	home, env = homeWithStore(t)
	idPath = filepath.Join(home, "id.age")
	pub, stderr, code := runHush(t, env, []byte("tr0ub4dor&3\n"), "keygen", "--passphrase", "-o", idPath)
	if code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runHush(t, env, nil, "recipients", "add", strings.TrimSpace(string(pub))); code != 0 {
		t.Fatalf("recipients add: exit %d: %s", code, stderr)
	}
	return home, env, idPath
}
