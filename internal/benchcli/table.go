package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets of issue 21, as ratios of median wall-clock times, and the
// peak RSS allowed beyond twice the plaintext.
const (
	targetGet    = 1.2 // hush get / age -d
	targetWrite  = 1.3 // hush set, rm, mv / floor write
	targetBulk   = 1.5 // hush import, migrate apply / floor write
	rssAllowance = 16 << 20
	migrateKeys  = 10_000 // keys migrate apply moves (all of a smaller store)
	valueLen     = 32
	migrateScope = "bench" // the scope migrate apply moves keys into
)

// tableConfig says what runTable measures and with what.
type tableConfig struct {
	hush, age, floor string    // paths of the hush, age and floorwrite binaries
	work             string    // a directory for the stores; created if absent, left in place
	sizes            []int     // entries per store
	runs             int       // timed runs of each command; 0: defaultRuns(size)
	rows             []string  // the rows to time (rowKinds); nil: all of them
	progress         io.Writer // one line per step; nil: none
}

// parseTableFlags parses the arguments of `benchcli table`; it returns an
// error wrapping errUsage when they are malformed or incomplete.
func parseTableFlags(args []string) (tableConfig, error) {
	var cfg tableConfig
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.hush, "hush", "", "the hush binary")
	fs.StringVar(&cfg.age, "age", "", "the age binary")
	fs.StringVar(&cfg.floor, "floor", "", "the floorwrite binary")
	fs.StringVar(&cfg.work, "work", "", "a directory for the stores")
	sizes := fs.String("sizes", "1000,10000,100000", "entries per store, comma- or space-separated")
	fs.IntVar(&cfg.runs, "runs", 0, "timed runs of each command (default: by size)")
	rows := fs.String("rows", "", "the rows to time, comma- or space-separated: "+strings.Join(rowKinds, ", ")+" (default: all)")
	if err := fs.Parse(args); err != nil {
		return cfg, fmt.Errorf("%w: %v", errUsage, err)
	}
	for _, r := range strings.FieldsFunc(*rows, func(r rune) bool { return r == ',' || r == ' ' }) {
		if !slices.Contains(rowKinds, r) {
			return cfg, fmt.Errorf("%w: no row %q (rows: %s)", errUsage, r, strings.Join(rowKinds, ", "))
		}
		cfg.rows = append(cfg.rows, r)
	}
	if fs.NArg() != 0 || cfg.hush == "" || cfg.age == "" || cfg.floor == "" || cfg.work == "" || cfg.runs < 0 {
		return cfg, errUsage
	}
	for _, f := range strings.FieldsFunc(*sizes, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("%w: size %q is not a positive number", errUsage, f)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	if len(cfg.sizes) == 0 {
		return cfg, fmt.Errorf("%w: no sizes", errUsage)
	}
	return cfg, nil
}

// rowKinds names the rows of the table, for -rows.
var rowKinds = []string{"get", "set", "rm", "mv", "import", "migrate"}

// timed reports whether the table times the row kind.
func (cfg tableConfig) timed(kind string) bool {
	return cfg.rows == nil || slices.Contains(cfg.rows, kind)
}

// defaultRuns is the number of timed runs of each command at n entries
// when none is given: enough for a stable median, few enough that the
// table at 1,000, 10,000 and 100,000 entries takes a few minutes on two
// CPUs.
func defaultRuns(n int) int {
	switch {
	case n <= 2_000:
		return 21
	case n <= 20_000:
		return 11
	default:
		return 5
	}
}

// row is one line of the timing table: a hush command against its floor.
type row struct {
	command string  // as the table prints it: "get", "import 1,000 entries", ...
	against string  // the floor: "age -d" or "floor write"
	target  float64 // the largest wall-clock ratio issue 21 allows
	runs    int
	hush    summary
	floor   summary
}

func (r row) ratio() float64    { return float64(r.hush.wall) / float64(r.floor.wall) }
func (r row) cpuRatio() float64 { return float64(r.hush.cpu) / float64(r.floor.cpu) }

// sizeResult is what the tables print for one store size.
type sizeResult struct {
	entries   int
	plaintext int64 // bytes age -d prints
	file      int64 // bytes of the store file
	rows      []row // get, set, rm, mv, import, migrate apply
}

// rssLimit is issue 21's bound on the peak RSS of get and set.
func (s sizeResult) rssLimit() int64 { return 2*s.plaintext + rssAllowance }

// peakRSS returns the peak RSS of the row whose command is command, or 0.
func (s sizeResult) peakRSS(command string) int64 {
	for _, r := range s.rows {
		if r.command == command {
			return r.hush.rss
		}
	}
	return 0
}

// bench holds what every size shares: the environment of the children
// (a HOME of its own), the identity, the recipients and an empty store.
type bench struct {
	cfg        tableConfig
	env        []string
	identity   string
	recipients []string
	empty      string
}

// runTable builds a store of each size in cfg.work, times every row on it
// and returns the results in the order of cfg.sizes; it returns the first
// failure of any command.
func runTable(cfg tableConfig) ([]sizeResult, error) {
	b, err := newBench(cfg)
	if err != nil {
		return nil, err
	}
	var res []sizeResult
	for _, n := range cfg.sizes {
		r, err := b.size(n)
		if err != nil {
			return nil, fmt.Errorf("%s entries: %w", thousands(n), err)
		}
		res = append(res, r)
	}
	return res, nil
}

func newBench(cfg tableConfig) (*bench, error) {
	home := filepath.Join(cfg.work, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	b := &bench{
		cfg:      cfg,
		env:      childEnv(os.Environ(), home),
		identity: filepath.Join(home, ".config", "hush", "identity.txt"),
		empty:    filepath.Join(cfg.work, "empty", "store.age"),
	}
	if err := b.run(nil, "-q", "--store", b.empty, "init"); err != nil {
		return nil, err
	}
	if _, err := os.Stat(b.identity); err != nil {
		return nil, fmt.Errorf("hush init made no default identity: %w", err)
	}
	var out bytes.Buffer
	if err := b.run(&out, "--store", b.empty, "recipients", "ls"); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if r := strings.TrimSpace(sc.Text()); r != "" {
			b.recipients = append(b.recipients, r)
		}
	}
	if len(b.recipients) == 0 {
		return nil, fmt.Errorf("hush recipients ls printed no recipient")
	}
	return b, nil
}

// childEnv is environ without the variables that would point hush at
// another store or identity, with HOME set to home.
func childEnv(environ []string, home string) []string {
	var env []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || strings.HasPrefix(k, "HUSH_") || strings.HasPrefix(k, "XDG_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home)
}

// hushJob is `hush args...` in the bench's environment.
func (b *bench) hushJob(args ...string) job {
	return job{name: "hush " + args[len(args)-1], argv: append([]string{b.cfg.hush}, args...), env: b.env}
}

// run runs `hush args...` once, its output to stdout (nil discards it).
func (b *bench) run(stdout io.Writer, args ...string) error {
	j := b.hushJob(args...)
	j.stdout = stdout
	_, err := j.once()
	return err
}

func (b *bench) logf(format string, args ...any) {
	if b.cfg.progress != nil {
		fmt.Fprintf(b.cfg.progress, "# "+format+"\n", args...)
	}
}

// size builds a store of n entries and times every row on it.
func (b *bench) size(n int) (sizeResult, error) {
	res := sizeResult{entries: n}
	runs := b.cfg.runs
	if runs == 0 {
		runs = defaultRuns(n)
	}
	dir := filepath.Join(b.cfg.work, strconv.Itoa(n))
	for _, d := range []string{"base", "hush", "floor"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return res, err
		}
	}
	seed := filepath.Join(dir, "seed.env")
	if err := writeSeed(seed, n); err != nil {
		return res, err
	}
	base := filepath.Join(dir, "base", "store.age")
	start := time.Now()
	if err := copyFile(b.empty, base); err != nil {
		return res, err
	}
	if err := b.run(nil, "-q", "--store", base, "import", seed); err != nil {
		return res, err
	}
	built := time.Since(start)
	var plain countWriter
	dec := job{name: "age -d", argv: []string{b.cfg.age, "-d", "-i", b.identity, base}, stdout: &plain}
	if _, err := dec.once(); err != nil {
		return res, err
	}
	res.plaintext = int64(plain)
	fi, err := os.Stat(base)
	if err != nil {
		return res, err
	}
	res.file = fi.Size()
	b.logf("%s entries: store %s (plaintext %s), built in %.1fs; %d runs of each command",
		thousands(n), bytesize(res.file), bytesize(res.plaintext), built.Seconds(), runs)

	w := width(n)
	name := secretName(n/2, w)
	if b.cfg.timed("get") {
		get := b.hushJob("--store", base, "get", name)
		get.name = "hush get"
		sh, sf, err := alternate(runs, get, dec)
		if err != nil {
			return res, err
		}
		res.rows = append(res.rows, row{command: "get", against: "age -d", target: targetGet,
			runs: runs, hush: summarize(sh), floor: summarize(sf)})
		b.logf("  get: %.2fx", res.rows[len(res.rows)-1].ratio())
	}

	moved := min(n, migrateKeys)
	prefix := "SECRET_" + strings.Repeat("0", w-4) // the names below 10,000
	writes := []struct {
		kind    string
		command string
		target  float64
		source  string
		stdin   []byte
		args    []string
	}{
		{"set", "set", targetWrite, base, []byte(strings.Repeat("s", valueLen)), []string{"set", name}},
		{"rm", "rm", targetWrite, base, nil, []string{"rm", name}},
		{"mv", "mv", targetWrite, base, nil, []string{"mv", name, "MOVED_" + name}},
		{"import", "import " + thousands(n) + " entries", targetBulk, b.empty, nil, []string{"import", seed}},
		{"migrate", "migrate apply, " + thousands(moved) + " keys", targetBulk, base, nil,
			[]string{"migrate", "apply", "--rule", prefix + "=" + migrateScope}},
	}
	for _, wr := range writes {
		if !b.cfg.timed(wr.kind) {
			continue
		}
		// An import is timed as a first import: with an accepted state
		// of its own, not the one the run before it left (see writeRow).
		r, err := b.writeRow(dir, runs, wr.source, wr.stdin, wr.args, wr.kind == "import")
		if err != nil {
			return res, fmt.Errorf("%s: %w", wr.command, err)
		}
		r.command, r.target = wr.command, wr.target
		res.rows = append(res.rows, r)
		b.logf("  %s: %.2fx", wr.command, r.ratio())
	}
	return res, nil
}

// writeRow times `hush -q --store S args...`, S a fresh copy of source
// before every run, against the floor write of the store hush's first
// run produced, itself copied afresh before every run.
//
// Every run of a row shares hush's accepted state (the integrity check's,
// in HOME), as one user's commands do; with freshState, each run starts
// with an empty state directory instead (XDG_STATE_HOME), so that it is
// a first use, not a write after the run before, whose store it never read.
func (b *bench) writeRow(dir string, runs int, source string, stdin []byte, args []string, freshState bool) (row, error) {
	hs := filepath.Join(dir, "hush", "store.age")
	fs := filepath.Join(dir, "floor", "store.age")
	result := filepath.Join(dir, "floor-source.age")
	captured := false
	h := b.hushJob(append([]string{"-q", "--store", hs}, args...)...)
	h.name = "hush " + args[0]
	h.stdin = stdin
	h.prepare = func() error { return copyFile(source, hs) }
	if freshState {
		state := filepath.Join(dir, "state")
		h.env = append(slices.Clip(h.env), "XDG_STATE_HOME="+state)
		h.prepare = func() error {
			if err := os.RemoveAll(state); err != nil {
				return err
			}
			return copyFile(source, hs)
		}
	}
	h.after = func() error {
		if captured {
			return nil
		}
		captured = true
		return copyFile(hs, result)
	}
	argv := []string{b.cfg.floor, "-age", b.cfg.age, "-i", b.identity}
	for _, r := range b.recipients {
		argv = append(argv, "-r", r)
	}
	f := job{name: "floor write", argv: append(argv, fs), env: b.env,
		prepare: func() error { return copyFile(result, fs) }}
	sh, sf, err := alternate(runs, h, f)
	if err != nil {
		return row{}, err
	}
	return row{against: "floor write", runs: runs, hush: summarize(sh), floor: summarize(sf)}, nil
}

// width is the number of digits in the names of an n-entry store: six, or
// more for a store of a million entries or more.
func width(n int) int { return max(6, len(strconv.Itoa(n-1))) }

// secretName is the name of entry i: SECRET_000042.
func secretName(i, width int) string { return fmt.Sprintf("SECRET_%0*d", width, i) }

// writeSeed writes the dotenv file of an n-entry store: names
// secretName(i), values of valueLen hex digits from a fixed seed.
func writeSeed(path string, n int) error {
	rng := rand.New(rand.NewPCG(21, 21))
	var buf bytes.Buffer
	w := width(n)
	for i := range n {
		fmt.Fprintf(&buf, "%s=%016x%016x\n", secretName(i, w), rng.Uint64(), rng.Uint64())
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// copyFile replaces dst's contents with src's (dst is created 0600) and
// fsyncs it, so that no write-back of the copy lands in a timed run.
//
// It streams, never holding the file: a child's peak RSS (wait4's
// ru_maxrss) counts benchcli's own when it starts it (Go starts children
// with vfork, and Linux records the parent's peak as the child's at
// exec), so a 14 MiB store read into benchcli's memory showed as up to
// 17 MiB more in hush's peak RSS.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// countWriter counts the bytes written to it.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
