package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"filippo.io/age"
)

// suite is one run of the reliability program: the hush binary under test,
// a temporary root holding every store, and the report.
type suite struct {
	cfg  config
	hush string // the hush binary
	root string // temporary root; every fixture lives below it
	rep  *report
	self []string // argv prefix that re-executes this program as a child

	logMu sync.Mutex
	log   *os.File // root/run.log: every command run, its exit code and stderr

	rngMu sync.Mutex
	rng   *rand.Rand

	fixtures int
}

// rand returns a random int in [0, n).
func (s *suite) randN(n int) int {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.IntN(n)
}

// randDur returns a random duration in [0, d).
func (s *suite) randDur(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return time.Duration(s.rng.Int64N(int64(d)))
}

// logf appends a line to run.log.
func (s *suite) logf(format string, args ...any) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.log != nil {
		fmt.Fprintf(s.log, format+"\n", args...)
	}
	if s.cfg.verbose {
		fmt.Fprintf(os.Stderr, "reliability: "+format+"\n", args...)
	}
}

// buildHush compiles cmd/hush into dir with the go command on PATH and
// returns the binary's path. It fails when there is no go on PATH (then
// -hush names a prebuilt binary) or the build fails.
func buildHush(ctx context.Context, dir string) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building hush: no go command on PATH (or name a hush binary with -hush): %w", err)
	}
	out := filepath.Join(dir, "hush")
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", out, "github.com/hush-secrets/hush/cmd/hush")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building hush: %v\n%s", err, stderr.Bytes())
	}
	return out, nil
}

// fixture is one throwaway store with its own home directory and identity.
type fixture struct {
	s      *suite
	name   string
	home   string // HOME, XDG_* and TMPDIR for hush live below it
	dir    string // the store's directory (0700)
	path   string // dir/store.age
	idPath string // the identity file (0600)
	id     *age.X25519Identity
	extra  []string // extra environment for hush
}

// newFixture makes an empty store with `hush init -r RECIPIENT`.
func (s *suite) newFixture(ctx context.Context, name string) (*fixture, error) {
	f, err := s.newBareFixture(name)
	if err != nil {
		return nil, err
	}
	r := f.run(ctx, nil, "init", "-r", f.id.Recipient().String())
	if r.code != 0 {
		return nil, fmt.Errorf("%s: hush init: exit %d: %s", name, r.code, r.stderr)
	}
	return f, nil
}

// newBareFixture makes the directories and identity of a fixture but no
// store.
func (s *suite) newBareFixture(name string) (*fixture, error) {
	s.logMu.Lock()
	s.fixtures++
	n := s.fixtures
	s.logMu.Unlock()
	base := filepath.Join(s.root, fmt.Sprintf("%02d-%s", n, name))
	f := &fixture{s: s, name: name, home: filepath.Join(base, "home"), dir: filepath.Join(base, "store")}
	f.path = filepath.Join(f.dir, "store.age")
	for _, d := range []string{f.home, f.dir, filepath.Join(f.home, ".config"), filepath.Join(f.home, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	f.id = id
	f.idPath = filepath.Join(f.home, "identity.txt")
	if err := os.WriteFile(f.idPath, []byte(id.String()+"\n"), 0o600); err != nil {
		return nil, err
	}
	return f, nil
}

// env is the whole environment hush runs with: nothing is inherited but
// PATH, so a developer's own HUSH_* variables never leak in.
func (f *fixture) env() []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + f.home,
		"XDG_CONFIG_HOME=" + filepath.Join(f.home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(f.home, ".local", "share"),
		"TMPDIR=" + filepath.Join(f.home, "tmp"),
		"LANG=C",
		"HUSH_STORE=" + f.path,
		"HUSH_IDENTITY_FILE=" + f.idPath,
	}
	return append(env, f.extra...)
}

// result is the outcome of one hush process.
type result struct {
	code   int // exit code; -1 if killed by a signal
	sig    syscall.Signal
	stdout []byte
	stderr []byte
	dur    time.Duration
	err    error // failure to start
}

func (r result) String() string {
	if r.sig != 0 {
		return fmt.Sprintf("killed by %v", r.sig)
	}
	return fmt.Sprintf("exit %d", r.code)
}

// command prepares hush with args, the fixture's environment and stdin.
func (f *fixture) command(ctx context.Context, stdin []byte, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, f.s.hush, args...)
	cmd.Env = f.env()
	cmd.Dir = f.home
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// run runs hush to completion.
func (f *fixture) run(ctx context.Context, stdin []byte, args ...string) result {
	cmd, stdout, stderr := f.command(ctx, stdin, args...)
	start := time.Now()
	err := cmd.Run()
	return f.finish(cmd, err, start, stdout, stderr, args)
}

// finish turns a finished command into a result and logs it.
func (f *fixture) finish(cmd *exec.Cmd, err error, start time.Time, stdout, stderr *bytes.Buffer, args []string) result {
	r := result{dur: time.Since(start), stdout: stdout.Bytes(), stderr: stderr.Bytes()}
	r.code, r.sig, r.err = exitStatus(cmd, err)
	f.s.logf("[%s] hush %s: %s in %v; stderr: %q", f.name, strings.Join(args, " "), r, r.dur.Round(time.Microsecond), r.stderr)
	return r
}

// exitStatus extracts the exit code or the killing signal.
func exitStatus(cmd *exec.Cmd, err error) (int, syscall.Signal, error) {
	if cmd.ProcessState == nil {
		return -1, 0, err
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal(), nil
	}
	return cmd.ProcessState.ExitCode(), 0, nil
}

// docFile is the plaintext document, parsed independently of the store
// package (docs/ARCHITECTURE.md gives the format).
type docFile struct {
	Version    int                     `json:"version"`
	Recipients []string                `json:"recipients"`
	Entries    map[string]docFileEntry `json:"entries"`
}

type docFileEntry struct {
	Value    string `json:"value"`
	Encoding string `json:"encoding"`
}

// decryptFile decrypts a store file with age directly and returns its
// entries by name. Any error (age or JSON) means the file is corrupt.
func decryptFile(path string, id age.Identity) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decryptBytes(b, id)
}

func decryptBytes(b []byte, id age.Identity) (map[string]string, error) {
	r, err := age.Decrypt(bytes.NewReader(b), id)
	if err != nil {
		return nil, fmt.Errorf("age: %w", err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("age: %w", err)
	}
	var d docFile
	if err := json.Unmarshal(plain, &d); err != nil {
		return nil, fmt.Errorf("document: %w", err)
	}
	if d.Version < 1 {
		return nil, fmt.Errorf("document: version %d", d.Version)
	}
	out := make(map[string]string, len(d.Entries))
	for name, e := range d.Entries {
		v := e.Value
		if e.Encoding == "base64" {
			raw, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, fmt.Errorf("document: entry %q: %w", name, err)
			}
			v = string(raw)
		}
		out[name] = v
	}
	return out, nil
}

// state decrypts the fixture's store.
func (f *fixture) state() (map[string]string, error) { return decryptFile(f.path, f.id) }

// hashFile returns the SHA-256 of a file, or "" if it cannot be read.
func hashFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// fileInfo is what a snapshot records of one file.
type fileInfo struct {
	mode fs.FileMode
	hash string
}

// snapshot records every file below dir: mode and content hash.
func snapshot(dir string) map[string]fileInfo {
	m := map[string]fileInfo{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return nil
		}
		fi := fileInfo{mode: info.Mode()}
		if d.Type().IsRegular() {
			fi.hash = hashFile(p)
		}
		m[rel] = fi
		return nil
	})
	return m
}

// diffSnapshots lists the paths added, removed or changed between a and b.
func diffSnapshots(a, b map[string]fileInfo) []string {
	var out []string
	for p, x := range a {
		y, ok := b[p]
		switch {
		case !ok:
			out = append(out, "removed "+p)
		case x != y:
			out = append(out, "changed "+p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, "added "+p)
		}
	}
	sort.Strings(out)
	return out
}

// strays lists the files in the store's directory other than the store
// and its lock file.
func (f *fixture) strays() []string {
	des, _ := os.ReadDir(f.dir)
	var out []string
	for _, de := range des {
		if n := de.Name(); n != "store.age" && n != "store.age.lock" {
			out = append(out, n)
		}
	}
	return out
}

// isTempName reports whether a file name is one of the store's temp files
// (the atomic write's ".store.age.tmp-<random>").
func isTempName(name string) bool { return strings.HasPrefix(name, ".store.age.tmp-") }

// childCmd prepares a re-execution of this program in a child role.
func (s *suite) childCmd(ctx context.Context, role string, env ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.self[0], s.self[1:]...)
	cmd.Env = append(append(os.Environ(), roleEnv+"="+role), env...)
	return cmd
}
