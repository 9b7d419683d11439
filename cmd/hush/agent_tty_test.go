package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// onTerminal runs cmd with a pseudo-terminal as its controlling terminal
// (and as its standard input unless cmd.Stdin is set), as a person at a
// shell does, and returns how many passphrase prompts it showed. Each
// prompt is answered with passphrase; with passphrase "" a prompt fails
// the test at once (it would otherwise wait for ever). The command must
// succeed.
func onTerminal(t *testing.T, cmd *exec.Cmd, passphrase string) (prompts int, screen string) {
	t.Helper()
	ctrl, tty := openPTY(t)
	if cmd.Stdin == nil {
		cmd.Stdin = tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	} else {
		cmd.ExtraFiles = []*os.File{tty} // fd 3
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3}
	}
	var stderr bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	out := &syncBuffer{}
	go io.Copy(out, ctrl)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	answered := 0
	for {
		select {
		case err := <-done:
			time.Sleep(50 * time.Millisecond) // let the last output drain
			if err != nil {
				t.Fatalf("%s: %v\nstderr: %s\nterminal: %q", strings.Join(cmd.Args, " "), err, stderr.Bytes(), out.String())
			}
			return strings.Count(out.String(), "passphrase for"), out.String()
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("%s did not finish; terminal: %q", strings.Join(cmd.Args, " "), out.String())
		case <-time.After(5 * time.Millisecond):
			n := strings.Count(out.String(), "passphrase for")
			if n == answered || echoOn(ctrl) {
				continue
			}
			if passphrase == "" {
				cmd.Process.Kill()
				t.Fatalf("%s asked for a passphrase: %q", strings.Join(cmd.Args, " "), out.String())
			}
			ctrl.Write([]byte(passphrase + "\n"))
			answered = n
		}
	}
}

// TestAgentNoPromptsOnTerminal is issue 19's count on a real terminal:
// with the agent, one unlock, then get, set, ls, exec and a git log -p
// over five commits of a store in git ask nothing; after 'hush agent
// stop' the next command asks again.
func TestAgentNoPromptsOnTerminal(t *testing.T) {
	t.Parallel()
	env, _ := agentHome(t)
	home := strings.TrimPrefix(env[0], "HOME=")
	repo := t.TempDir()
	genv := append([]string{"PATH=" + os.Getenv("PATH"), // "hush" on it is this test binary (git runs the drivers)
		"GIT_CONFIG_NOSYSTEM=1", "GIT_PAGER=cat", "PAGER=cat", "LC_ALL=C",
		"GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.com",
		"HUSH_STORE=" + filepath.Join(repo, "store.age")}, env...)
	runGit(t, genv, repo, "init", "-q")
	store, err := os.ReadFile(filepath.Join(home, ".local", "share", "hush", "store.age"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "store.age"), store, 0o600); err != nil {
		t.Fatal(err)
	}
	hushIn := func(dir, stdin string, args ...string) *exec.Cmd {
		cmd := hushCmd(t, genv, args...)
		cmd.Dir = dir
		if stdin != "" {
			cmd.Stdin = strings.NewReader(stdin)
		}
		return cmd
	}
	if out, err := hushIn(repo, "", "git", "setup").CombinedOutput(); err != nil {
		t.Fatalf("git setup: %v: %s", err, out)
	}

	// Without the agent, a command on the terminal asks once.
	if n, _ := onTerminal(t, hushIn(home, "", "ls"), "s3cret"); n != 1 {
		t.Fatalf("ls without the agent asked %d times, want 1", n)
	}

	startAgent(t, env) // one prompt, counted there

	var stdout bytes.Buffer
	steps := []struct {
		cmd  *exec.Cmd
		want string // on stdout
	}{
		{hushIn(home, "typed once\n", "set", "X"), ""},
		{hushIn(home, "", "get", "X"), "typed once\n"},
		{hushIn(home, "", "ls"), "X\n"},
		{hushIn(home, "", "exec", "--", "sh", "-c", `printf '%s\n' "$X"`), "typed once\n"},
	}
	for i := 1; i <= 5; i++ {
		k := "K" + string(rune('0'+i))
		steps = append(steps, struct {
			cmd  *exec.Cmd
			want string
		}{hushIn(repo, "v"+k, "set", k), ""})
		steps = append(steps, struct {
			cmd  *exec.Cmd
			want string
		}{exec.Command("sh", "-c", `umask 077 && git add -A && git commit -qm "$0"`, k), ""})
	}
	for _, s := range steps {
		stdout.Reset()
		s.cmd.Stdout = &stdout
		if s.cmd.Env == nil {
			s.cmd.Dir, s.cmd.Env = repo, genv
		}
		if n, screen := onTerminal(t, s.cmd, ""); n != 0 {
			t.Fatalf("%s asked %d times: %q", strings.Join(s.cmd.Args, " "), n, screen)
		}
		if s.want != "" && stdout.String() != s.want {
			t.Fatalf("%s printed %q, want %q", strings.Join(s.cmd.Args, " "), stdout.String(), s.want)
		}
	}

	// git log -p: git runs the diff driver for every version of the store;
	// every run unlocks through the agent.
	log := exec.Command("git", "log", "-p")
	log.Dir, log.Env, log.Stdout = repo, genv, &stdout
	stdout.Reset()
	if n, screen := onTerminal(t, log, ""); n != 0 {
		t.Fatalf("git log -p asked %d times: %q", n, screen)
	}
	for i := 1; i <= 5; i++ {
		if k := "K" + string(rune('0'+i)); !strings.Contains(stdout.String(), "+secret "+k+" ") {
			t.Fatalf("git log -p shows no %s:\n%s", k, stdout.String())
		}
	}
	if strings.Contains(stdout.String(), "vK") {
		t.Fatalf("git log -p shows a value:\n%s", stdout.String())
	}

	// 'hush agent stop' forgets: the next command asks again, once.
	if _, stderr, code := runHush(t, env, nil, "agent", "stop"); code != 0 {
		t.Fatalf("agent stop: exit %d: %s", code, stderr)
	}
	stdout.Reset()
	get := hushIn(home, "", "get", "X")
	get.Stdout = &stdout
	if n, _ := onTerminal(t, get, "s3cret"); n != 1 || stdout.String() != "typed once\n" {
		t.Fatalf("get after agent stop: %d prompts, printed %q; want 1 and the value", n, stdout.String())
	}
}

// TestAgentIdleTimeoutOnTerminal: with the agent, a command on the
// terminal asks nothing; once the agent has been idle for --idle, the
// next one asks again.
func TestAgentIdleTimeoutOnTerminal(t *testing.T) {
	t.Parallel()
	env, _ := agentHome(t)
	startAgent(t, env, "--idle", "2s")
	if n, _ := onTerminal(t, hushCmd(t, env, "ls"), ""); n != 0 {
		t.Fatalf("ls with the agent asked %d times", n)
	}
	time.Sleep(2500 * time.Millisecond)
	if n, _ := onTerminal(t, hushCmd(t, env, "ls"), "s3cret"); n != 1 {
		t.Fatalf("ls after the idle timeout asked %d times, want 1", n)
	}
}

// step is one prompt of a command run by typeAt and what is typed at it.
type step struct{ prompt, answer string }

// typeAt runs cmd on a pseudo-terminal (its controlling terminal and its
// standard input), types each answer once its prompt is on the screen
// with echo off, in order, and returns the screen once cmd succeeded.
func typeAt(t *testing.T, cmd *exec.Cmd, steps ...step) string {
	t.Helper()
	ctrl, tty := openPTY(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	screen := startOnTerminal(t, cmd, ctrl, tty)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	seen := 0 // of the screen, already matched
	for _, s := range steps {
		waitFor(t, func() bool { return strings.Contains(screen.String()[seen:], s.prompt) }, "the prompt "+s.prompt, screen)
		waitFor(t, func() bool { return !echoOn(ctrl) }, "echo off", screen)
		seen += strings.Index(screen.String()[seen:], s.prompt) + len(s.prompt)
		ctrl.Write([]byte(s.answer + "\n"))
	}
	select {
	case err := <-done:
		time.Sleep(50 * time.Millisecond)
		if err != nil {
			t.Fatalf("%s: %v\nstderr: %s\nterminal: %q", strings.Join(cmd.Args, " "), err, stderr.Bytes(), screen.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%s waits; terminal: %q", strings.Join(cmd.Args, " "), screen.String())
	}
	return screen.String()
}

// TestReadmeWorkstation runs the README's "Quick start: an offline
// workstation" (not run by TestDocs: it needs a terminal) step by step on
// a pseudo-terminal and counts the passphrase prompts: one for init, one
// for agent start, none after.
func TestReadmeWorkstation(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("pty helpers are linux-only")
	}
	home, run := t.TempDir(), t.TempDir()
	env := []string{"HOME=" + home, "TMPDIR=" + t.TempDir(), "XDG_RUNTIME_DIR=" + run}
	const pass = "correct horse battery"
	prompts := func(screen string) int { return strings.Count(screen, "passphrase for") }

	typeAt(t, hushCmd(t, env, "keygen", "--passphrase"), step{"passphrase", pass}, step{"again", pass})
	if n := prompts(typeAt(t, hushCmd(t, env, "init"), step{"passphrase for", pass})); n != 1 {
		t.Fatalf("init asked %d passphrases, want 1", n)
	}
	if n := prompts(typeAt(t, hushCmd(t, env, "agent", "start"), step{"passphrase for", pass})); n != 1 {
		t.Fatalf("agent start asked %d passphrases, want 1", n)
	}
	t.Cleanup(func() { runHush(t, env, nil, "agent", "stop") })
	screen := typeAt(t, hushCmd(t, env, "set", "GITHUB_TOKEN"),
		step{"enter value for GITHUB_TOKEN: ", "ghp_typed"}, step{"enter value for GITHUB_TOKEN again: ", "ghp_typed"})
	if n := prompts(screen); n != 0 {
		t.Fatalf("set with the agent asked %d passphrases: %q", n, screen)
	}
	// eval "$(hush export --format shell --only GITHUB_TOKEN)", then use it
	sh := exec.Command("sh", "-c", `eval "$(hush export --format shell --only GITHUB_TOKEN)" && printf '%s\n' "$GITHUB_TOKEN"`)
	sh.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...) // "hush" on PATH is this test binary
	var out bytes.Buffer
	sh.Stdout = &out
	if n, screen := onTerminal(t, sh, ""); n != 0 || out.String() != "ghp_typed\n" {
		t.Fatalf("export with the agent: %d prompts, printed %q; terminal %q", n, out.String(), screen)
	}
	if _, stderr, code := runHush(t, env, nil, "agent", "stop"); code != 0 || !strings.Contains(string(stderr), "forgot every identity") {
		t.Fatalf("agent stop: exit %d: %s", code, stderr)
	}
}
