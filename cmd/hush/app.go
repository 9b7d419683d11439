package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/store"
)

// app is one invocation of hush: its standard streams, its environment
// and the global flags. Commands reach everything outside the process
// through it, so tests (and the git commands) can run hush in-process.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            []string // the environment, as os.Environ returns it
	getenv         func(string) string

	// Global flags.
	storeFlag   string
	identities  []string
	scopeFlag   string
	lockTimeout string
	quiet       bool
	verbose     bool

	// ctx ends on SIGINT or SIGTERM once watchSignals ran (commands that
	// write or prompt): lock waits and prompts give up, and a write in
	// progress completes or leaves the store as it was. Read-only commands
	// keep the default signal behaviour, which costs nothing at start-up.
	ctx     context.Context
	cancel  context.CancelFunc
	signals chan os.Signal
	// started is set once a command's own code runs. An error before
	// that came from cobra parsing the command line: a usage error.
	started bool
	// readOnly: the command run is annotated readOnly (it takes no lock).
	readOnly bool
	// noLock: the command run is annotated readOnly or noLock.
	noLock bool

	// execve replaces the process (exec command); syscall.Exec in
	// production, a fake in unit tests.
	execve func(argv0 string, argv, envv []string) error
	// tty opens the controlling terminal for prompts; see tty.go.
	tty func() (ttyFile, error)
	// passphrases remembers passphrases typed for identity files, so a
	// process asks for each at most once.
	passphrases map[string][]byte
	// ahead holds lines that came in behind an answer at a prompt (see
	// readHidden), for the next prompts.
	ahead []byte
	// promptFailed records that a passphrase was needed but there was no
	// terminal to ask on, for the hint.
	promptFailed bool
	// opened are the stores the command opened (openFile): what their
	// reads left to record in the integrity state is recorded once the
	// command has succeeded (see store.File.RecordReads).
	opened []*store.File
}

// run is hush's whole life: harden the process (no core dumps, not
// dumpable), parse args, run the command, map the error to an exit code.
// It never calls os.Exit.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	if len(args) > 0 && args[0] == cleanerArg { // exec --file's watcher: see execfile_linux.go
		return runCleaner(args[1:], stderr)
	}
	a := newApp(stdin, stdout, stderr, env)
	undo := harden() // before any value or key is read
	execve := a.execve
	a.execve = func(argv0 string, argv, envv []string) error {
		undo()
		err := execve(argv0, argv, envv)
		harden()
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a.ctx, a.cancel = ctx, cancel
	defer a.stopSignals()
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && !a.started {
		err = usageErr(err)
	}
	if err == nil {
		a.recordReads()
	}
	if err != nil {
		a.report(err)
	}
	return exitCode(err)
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, env []string) *app {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return &app{
		stdin: stdin, stdout: stdout, stderr: stderr, env: env, ctx: context.Background(),
		getenv:      func(k string) string { return m[k] },
		execve:      syscall.Exec,
		tty:         openTTY,
		passphrases: map[string][]byte{},
	}
}

// rootCmd builds the command tree.
func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "hush",
		Short: "an age-encrypted secret store for servers, CI and workstations",
		Long: `hush keeps secrets in one age-encrypted file, guarded by an advisory lock.

Secret values go to standard output and nowhere else; diagnostics go to
standard error. Exit codes: 0 ok, 1 other error, 2 usage, 3 not found,
4 refused (reserved name, insecure permissions, policy), 5 cannot decrypt,
6 lock timeout.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version(),
		Args:          cobra.ArbitraryArgs,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.started = true
			a.readOnly = cmd.Annotations[readOnly] != ""
			a.noLock = a.readOnly || cmd.Annotations[noLock] != "" || dryRun(cmd)
			if !a.readOnly {
				a.watchSignals()
			}
			if cmd.Flags().Changed("scope") && a.scopeFlag == "" {
				return usageErrorf("--scope needs a scope name")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q", args[0])
			}
			return usageErrorf("missing command; run 'hush --help' for the list")
		},
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	root.SetVersionTemplate("hush {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&a.storeFlag, "store", "", "the store `PATH` (default $HUSH_STORE, else $XDG_DATA_HOME/hush/store.age)")
	pf.StringArrayVarP(&a.identities, "identity", "i", nil, "identity `FILE` (repeatable; default $HUSH_IDENTITY, $HUSH_IDENTITY_FILE, $XDG_CONFIG_HOME/hush/identity.txt)")
	pf.StringVar(&a.scopeFlag, "scope", "", "address the reserved scope `S` instead of your own secrets")
	pf.StringVar(&a.lockTimeout, "lock-timeout", "", "how long a write waits for the store lock, a `DURATION` such as 30s (default $HUSH_LOCK_TIMEOUT, else 10s)")
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "print no warnings")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "say which store and identities are used")

	root.AddCommand(
		a.initCmd(), a.keygenCmd(),
		a.setCmd(), readOnlyCmd(a.getCmd()), a.rmCmd(), a.mvCmd(), readOnlyCmd(a.lsCmd()),
		readOnlyCmd(a.execCmd()), readOnlyCmd(a.exportCmd()), readOnlyCmd(a.renderCmd()), a.importCmd(),
		a.recipientsCmd(), a.migrateCmd(), a.doctorCmd(), a.trustCmd(),
		readOnlyCmd(a.versionCmd()), readOnlyCmd(a.completionCmd()),
		a.gitCmd(),
		a.agentCmd(),
		a.restoreCmd(),
		a.generateCmd(),
		a.rekeyCmd(),
		a.editCmd(),
	)
	markNoLock(root)
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	}
	a.completeScopeFlag(root)
	a.completeByUsage(root)
	return root
}

// readOnly annotates commands that never write the store nor prompt by
// themselves: they keep the default signal handling (see app.ctx).
const readOnly = "hush-read-only"

func readOnlyCmd(c *cobra.Command) *cobra.Command {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[readOnly] = "true"
	return c
}

// noLock annotates commands that never take the store's write lock but
// may write elsewhere or prompt (so they keep watchSignals): like
// readOnly commands, they ignore a malformed HUSH_LOCK_TIMEOUT.
const noLock = "hush-no-lock"

// dryRun reports whether cmd was given --dry-run: a dry run writes
// nothing and takes no lock, so it ignores a malformed HUSH_LOCK_TIMEOUT
// like the commands annotated noLock.
func dryRun(cmd *cobra.Command) bool {
	f := cmd.Flags().Lookup("dry-run")
	return f != nil && f.Changed && f.Value.String() == "true"
}

// markNoLock annotates the subcommands, built in their own files, that
// only read the store (readOnly) or write no store (noLock).
func markNoLock(root *cobra.Command) {
	for _, path := range [][]string{{"recipients", "ls"}, {"migrate", "plan"}, {"trust"}} {
		c, _, err := root.Find(path)
		if err != nil || c.Name() != path[len(path)-1] {
			panic("hush: no command " + strings.Join(path, " "))
		}
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		if path[0] == "trust" { // writes its state file: keeps signals
			c.Annotations[noLock] = "true"
		} else {
			c.Annotations[readOnly] = "true"
		}
	}
}

// recordReads records, in the integrity state, what the reads of the
// stores the command opened left to record: only after the whole command
// succeeded, so that a command that fails writes nothing. It is a record
// that saves later reads a hash of the store file, so an error (a state
// directory that cannot be written) is not the command's. exec, which
// succeeds by replacing the process, never gets here and records nothing.
func (a *app) recordReads() {
	for _, f := range a.opened {
		if err := f.RecordReads(); err != nil {
			a.infof("integrity state not updated: %v", err)
		}
	}
}

// watchSignals makes SIGINT and SIGTERM cancel a.ctx instead of killing
// the process. It is idempotent.
func (a *app) watchSignals() {
	if a.signals != nil || a.cancel == nil {
		return
	}
	a.signals = make(chan os.Signal, 1)
	signal.Notify(a.signals, os.Interrupt, syscall.SIGTERM)
	go func(ch <-chan os.Signal, cancel context.CancelFunc) {
		if _, ok := <-ch; ok {
			cancel()
		}
	}(a.signals, a.cancel)
}

func (a *app) stopSignals() {
	if a.signals != nil {
		signal.Stop(a.signals)
		close(a.signals)
	}
}

// groupRunE makes a command that only groups subcommands fail with a
// usage error when called without one.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return usageErrorf("%s needs a subcommand; run '%s --help'", cmd.CommandPath(), cmd.CommandPath())
}

// exactArgs, rangeArgs and minArgs are cobra's validators with usage errors.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %s (got %d arguments)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

func rangeArgs(lo, hi int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usageErrorf("%s takes %s (got %d arguments)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf("%s takes %s", cmd.CommandPath(), what)
		}
		return nil
	}
}

// storePath is --store, else HUSH_STORE, else the XDG default; see
// locate.StorePath for when it fails.
func (a *app) storePath() (string, error) {
	return locate.StorePath(a.storeFlag, a.getenv)
}

// identityPath is the default identity file, where keygen and init write
// a new identity; see locate.IdentityPath for when it fails.
func (a *app) identityPath() (string, error) {
	return locate.IdentityPath(a.getenv)
}

// lockWait is --lock-timeout, else HUSH_LOCK_TIMEOUT, else the default.
// A bare number is seconds. An invalid value is a usage error, except a
// HUSH_LOCK_TIMEOUT seen by a command that takes no lock (readOnly or
// noLock): it is ignored (said with -v), so that a typo in a profile
// breaks writes with a clear error and never the reads a service runs on.
func (a *app) lockWait() (time.Duration, error) {
	s, from := a.lockTimeout, "--lock-timeout"
	if s == "" {
		s, from = a.getenv("HUSH_LOCK_TIMEOUT"), "HUSH_LOCK_TIMEOUT"
	}
	if s == "" {
		return store.DefaultLockTimeout, nil
	}
	d, err := parseTimeout(s, from)
	if err != nil && a.noLock && from == "HUSH_LOCK_TIMEOUT" {
		a.infof("ignored (this command takes no lock): %v", err)
		return store.DefaultLockTimeout, nil
	}
	return d, err
}

// parseTimeout parses a lock timeout s (a duration, or a number of
// seconds) given by from.
func parseTimeout(s, from string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseFloat(s, 64)
		if nerr != nil {
			return 0, usageErrorf("%s: invalid duration %q (use e.g. 500ms, 30s or 2m)", from, s)
		}
		d = time.Duration(n * float64(time.Second))
	}
	if d <= 0 {
		return 0, usageErrorf("%s: the timeout must be positive", from)
	}
	return d, nil
}

// allowInsecure reports HUSH_ALLOW_INSECURE_PERMS=1: accept store and
// identity files that group or others can read. Only the CLI reads it;
// the libraries take it as an option.
func (a *app) allowInsecure() bool { return a.getenv("HUSH_ALLOW_INSECURE_PERMS") == "1" }

// warnf prints a warning unless -q was given.
func (a *app) warnf(format string, args ...any) {
	if !a.quiet {
		fmt.Fprintf(a.stderr, "hush: "+format+"\n", args...)
	}
}

// infof prints a note only with -v.
func (a *app) infof(format string, args ...any) {
	if a.verbose {
		fmt.Fprintf(a.stderr, "hush: "+format+"\n", args...)
	}
}

// report prints err, and the hints that go with it, to stderr.
func (a *app) report(err error) {
	msg := strings.TrimSpace(err.Error())
	if msg == "" {
		msg = "error"
	}
	for _, line := range strings.Split(msg, "\n") {
		fmt.Fprintf(a.stderr, "hush: %s\n", lowerFirst(line))
	}
	for _, h := range hints(err, a) {
		fmt.Fprintf(a.stderr, "hush: hint: %s\n", h)
	}
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	// Keep acronyms and identifiers (HUSH_STORE, SSH, AGE-...) as they are.
	if len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z' {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

var errNoTerminal = errors.New("no terminal")
