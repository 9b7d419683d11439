package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hush-secrets/hush/internal/agent"
	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/store"
)

// agentOptions are the flags of hush agent start (and serve).
type agentOptions struct {
	Idle, Max  time.Duration
	Foreground bool
	ReadyFD    int // serve: report start-up on this descriptor
	TTYFD      int // serve: ask passphrases on this terminal
}

func (a *app) agentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "unlock passphrase, SSH and plugin identities once per session",
		Long: `The agent holds your unlocked identities in memory, so that a passphrase
is typed (or a hardware key touched) once per session instead of once per
command. hush commands and the git drivers use it whenever it runs and an
identity file they would read is one it unlocked (same path, same content).

'hush agent start' reads the identities every command would use (-i,
HUSH_IDENTITY, HUSH_IDENTITY_FILE or the default file), asks for their
passphrases on the terminal, and leaves the agent running in the
background. It listens on $XDG_RUNTIME_DIR/hush/agent.sock, in a 0700
directory; without XDG_RUNTIME_DIR it does not start.

Only processes of your own user can talk to it; private keys never leave
it (it unwraps a store's file key and returns that). It forgets everything
and exits on 'hush agent stop', when it was not used for --idle (default
15m), and after --max (default 8h). See docs/CLI.md, "agent".`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	cmd.AddCommand(a.agentStartCmd(), a.agentServeCmd(), a.agentStopCmd(), readOnlyCmd(a.agentStatusCmd()))
	return cmd
}

func agentFlags(cmd *cobra.Command, o *agentOptions) {
	cmd.Flags().DurationVar(&o.Idle, "idle", agent.DefaultIdleTimeout, "forget everything after this long without use")
	cmd.Flags().DurationVar(&o.Max, "max", agent.DefaultMaxLifetime, "forget everything this long after start, however busy")
}

func (a *app) agentStartCmd() *cobra.Command {
	var o agentOptions
	cmd := &cobra.Command{
		Use:   "start [--idle DURATION] [--max DURATION] [--foreground]",
		Short: "unlock your identities and keep them in a background agent",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkAgentTimeouts(o); err != nil {
				return err
			}
			if o.Foreground {
				return a.runAgentServe(o)
			}
			return a.runAgentStart(o)
		},
	}
	agentFlags(cmd, &o)
	cmd.Flags().BoolVar(&o.Foreground, "foreground", false, "stay in the foreground (for a service manager); stop with Ctrl-C or 'hush agent stop'")
	return cmd
}

// agentServeCmd is what start runs in the background; not for people.
func (a *app) agentServeCmd() *cobra.Command {
	var o agentOptions
	cmd := &cobra.Command{
		Use:    "serve",
		Hidden: true,
		Args:   exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkAgentTimeouts(o); err != nil {
				return err
			}
			return a.runAgentServe(o)
		},
	}
	agentFlags(cmd, &o)
	cmd.Flags().IntVar(&o.ReadyFD, "ready-fd", -1, "")
	cmd.Flags().IntVar(&o.TTYFD, "tty-fd", -1, "")
	return cmd
}

func (a *app) checkAgentTimeouts(o agentOptions) error {
	if o.Idle <= 0 || o.Max <= 0 {
		return usageErrorf("--idle and --max must be positive durations")
	}
	return nil
}

func (a *app) agentStopCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "make the agent forget your identities and exit",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			c, err := a.agentClient()
			if errors.Is(err, agent.ErrNotRunning) {
				a.warnf("no agent running")
				return nil
			}
			if err != nil {
				return err
			}
			if err := c.Stop(); err != nil {
				return err
			}
			a.warnf("agent stopped; it forgot every identity")
			return nil
		},
	}
}

func (a *app) agentStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "say whether an agent runs and what it holds (exit 0 if it runs, 3 if not)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			c, err := a.agentClient()
			if err != nil {
				return err
			}
			st, err := c.Status()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "agent running (pid %d) on %s\n", st.PID, c.Path())
			for _, f := range st.Files {
				fmt.Fprintf(a.stdout, "holds %s\n", f.Name)
			}
			fmt.Fprintf(a.stdout, "forgets at %s (idle timeout %s, maximum lifetime %s)\n",
				st.Forgets.Local().Format(time.DateTime), st.IdleTimeout, st.MaxLifetime)
			if st.Dumpable || st.CoreLimit != 0 {
				fmt.Fprintf(a.stdout, "warning: the agent's memory is dumpable\n")
			}
			return nil
		},
	}
}

// agentClient opens the agent's socket. No agent is an error wrapping
// store.ErrNotFound (exit 3).
func (a *app) agentClient() (*agent.Client, error) {
	sock, err := a.agentSocket()
	if err != nil {
		return nil, err
	}
	c, err := agent.Open(sock)
	if errors.Is(err, agent.ErrNotRunning) {
		return nil, fmt.Errorf("%w: %w (no socket at %s)", agent.ErrNotRunning, store.ErrNotFound, sock)
	}
	return c, err
}

func (a *app) agentSocket() (string, error) {
	sock, err := agent.SocketPath(a.getenv)
	if err != nil {
		return "", withHint(err, "the agent's socket lives in $XDG_RUNTIME_DIR, which your login session (systemd-logind, pam_systemd) normally sets; hush does not fall back to a shared directory")
	}
	return sock, nil
}

// runAgentStart starts 'hush agent serve' in a new session with the
// terminal and a pipe, and waits on the pipe until the agent has unlocked
// the identities and listens, or has failed. The passphrases are read by
// the agent itself from the terminal: they are never on a command line,
// in a file or in this process.
func (a *app) runAgentStart(o agentOptions) error {
	sock, err := a.agentSocket()
	if err != nil {
		return err
	}
	if c, err := agent.Open(sock); err == nil {
		if st, err := c.Status(); err == nil {
			return withHint(fmt.Errorf("%w: an agent already runs (pid %d)", errRefused, st.PID), "stop it first with 'hush agent stop'")
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	args := []string{os.Args[0]}
	for _, p := range a.identities {
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		args = append(args, "-i", abs)
	}
	args = append(args, "agent", "serve", "--idle", o.Idle.String(), "--max", o.Max.String(), "--ready-fd", "3")
	cmd := &exec.Cmd{Path: exe, Args: args, Env: a.env, ExtraFiles: []*os.File{w}, SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	var restore func()
	if t, err := a.tty(); err == nil {
		defer t.Close()
		if f, ok := t.(*os.File); ok {
			cmd.ExtraFiles = append(cmd.ExtraFiles, f)
			cmd.Args = append(cmd.Args, "--tty-fd", "4")
			if state, err := term.GetState(int(f.Fd())); err == nil {
				restore = func() { term.Restore(int(f.Fd()), state) }
			}
		}
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("starting the agent: %w", err)
	}
	w.Close()
	a.watchSignals()
	done := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(r, 1<<20))
		done <- b
	}()
	var out []byte
	select {
	case out = <-done:
	case <-a.ctx.Done():
		cmd.Process.Kill()
		cmd.Wait()
		if restore != nil {
			restore()
		}
		return errors.New("interrupted; no agent started")
	}
	return a.agentStarted(cmd, out, o)
}

// startReport is the agent's last line on its start-up pipe: its pid
// once it listens, or the exit code, message and hints of its failure.
type startReport struct {
	PID   int      `json:"pid,omitempty"`
	Code  int      `json:"code,omitempty"`
	Error string   `json:"error,omitempty"`
	Hints []string `json:"hints,omitempty"`
}

// agentStarted reports what the agent said on its start-up pipe: its
// diagnostics, then a startReport.
func (a *app) agentStarted(cmd *exec.Cmd, out []byte, o agentOptions) error {
	text, last := "", string(bytes.TrimSpace(out))
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		text, last = last[:i+1], last[i+1:]
	}
	io.WriteString(a.stderr, text)
	var rep startReport
	if err := json.Unmarshal([]byte(last), &rep); err != nil || (rep.PID == 0 && rep.Code == 0) {
		cmd.Process.Kill()
		cmd.Wait()
		return errors.New("the agent exited without saying why")
	}
	if rep.Code != 0 {
		cmd.Wait()
		var err error = &codedError{msg: rep.Error, code: rep.Code}
		for i := len(rep.Hints) - 1; i >= 0; i-- {
			err = withHint(err, "%s", rep.Hints[i])
		}
		return err
	}
	cmd.Process.Release()
	a.warnf("agent started (pid %d); it forgets your identities on 'hush agent stop', after %s idle or %s in all", rep.PID, o.Idle, o.Max)
	return nil
}

// codedError is the agent's start-up failure, with its exit code.
type codedError struct {
	msg  string
	code int
}

func (e *codedError) Error() string { return e.msg }

func (e *codedError) Is(target error) bool {
	switch e.code {
	case exitNotFound:
		return target == store.ErrNotFound
	case exitRefused:
		return target == errRefused
	case exitDecrypt:
		return target == store.ErrDecrypt
	case exitLockTimeout:
		return target == store.ErrLockTimeout
	}
	return false
}

// runAgentServe is the agent: it hardens the process, unlocks the
// identities (asking on the terminal of --tty-fd, or its own), listens,
// says so on --ready-fd (or stderr), and serves until stopped or timed
// out.
func (a *app) runAgentServe(o agentOptions) error {
	var ready io.WriteCloser
	var diag bytes.Buffer
	if o.ReadyFD >= 0 {
		ready = os.NewFile(uintptr(o.ReadyFD), "ready")
		a.stderr = &diag
	}
	var tty *os.File
	closeTTY := func() {
		a.tty = func() (ttyFile, error) { return nil, errNoTerminal }
		if tty != nil {
			tty.Close()
			tty = nil
		}
	}
	defer closeTTY()
	if o.TTYFD >= 0 {
		tty = os.NewFile(uintptr(o.TTYFD), "tty")
		t := keepOpen{tty}
		a.tty = func() (ttyFile, error) { return t, nil }
	} else if o.ReadyFD >= 0 {
		a.tty = func() (ttyFile, error) { return nil, errNoTerminal }
	}
	fail := func(err error) error {
		if ready == nil {
			return err
		}
		rep := startReport{Code: exitCode(err), Error: err.Error(), Hints: hints(err, a)}
		b, _ := json.Marshal(rep)
		fmt.Fprintf(ready, "%s%s\n", diag.Bytes(), b)
		ready.Close()
		return err
	}
	if err := agent.Harden(); err != nil {
		return fail(err)
	}
	sock, err := a.agentSocket()
	if err != nil {
		return fail(err)
	}
	sources, err := a.unlockSources()
	if err != nil {
		return fail(err)
	}
	ln, err := agent.Listen(sock)
	if err != nil {
		return fail(err)
	}
	closeTTY()
	srv := &agent.Server{Sources: sources, IdleTimeout: o.Idle, MaxLifetime: o.Max}
	if ready != nil {
		b, _ := json.Marshal(startReport{PID: os.Getpid()})
		fmt.Fprintf(ready, "%s%s\n", diag.Bytes(), b)
		ready.Close()
	} else {
		a.warnf("agent running (pid %d) on %s; stop it with Ctrl-C or 'hush agent stop'", os.Getpid(), sock)
	}
	a.watchSignals()
	why := srv.Serve(a.ctx, ln)
	if ready == nil {
		a.warnf("agent stopped (%s); it forgot every identity", why)
	}
	return nil
}

// keepOpen is the agent's terminal, lent to each prompt: Close keeps it.
type keepOpen struct{ *os.File }

func (keepOpen) Close() error { return nil }

// unlockSources reads the identities a command would use, one source at
// a time, and unlocks each (see agent.Unlock).
func (a *app) unlockSources() ([]agent.Source, error) {
	src := a.identitySource()
	found, err := locate.Identities(src)
	if err != nil {
		return nil, err
	}
	if found.From == "HUSH_IDENTITY" {
		data := []byte(a.getenv("HUSH_IDENTITY"))
		if err := unlock("HUSH_IDENTITY", data, found.Identities); err != nil {
			return nil, err
		}
		return []agent.Source{{Ref: agent.RefOf("HUSH_IDENTITY", data), Identities: found.Identities}}, nil
	}
	var sources []agent.Source
	for _, p := range found.Paths {
		abs, data, err := a.readIdentitySource(p)
		if err != nil {
			return nil, err
		}
		ids, err := store.ParseIdentities(p, data, src.IdentityOptions)
		if err == nil {
			err = unlock(p, data, ids)
		}
		ref := agent.RefOf(abs, data)
		clear(data)
		if err != nil {
			return nil, err
		}
		a.infof("unlocked %s", p)
		sources = append(sources, agent.Source{Ref: ref, Identities: ids})
	}
	return sources, nil
}

func unlock(name string, data []byte, ids []age.Identity) error {
	if err := agent.Unlock(name, data, ids); err != nil {
		return &unlockError{err: err}
	}
	return nil
}

// unlockError is an identity that did not unlock (exit 5, as a store
// that cannot be decrypted).
type unlockError struct{ err error }

func (e *unlockError) Error() string        { return "cannot unlock an identity: " + e.err.Error() }
func (e *unlockError) Unwrap() error        { return e.err }
func (e *unlockError) Is(target error) bool { return target == store.ErrDecrypt }
