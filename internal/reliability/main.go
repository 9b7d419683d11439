// Command reliability runs hush's reliability suite against the real hush
// binary and prints one table of figures: kill -9 loops, multi-process
// contention, lock-file chaos, a hung lock holder, injected I/O errors,
// tamper and truncation sweeps, a bad-input corpus, migration crash points
// and a secret-leak scan. It exits 1 if any guarantee failed.
//
//	go run ./internal/reliability                  # every part at its default size
//	go run ./internal/reliability -list            # the parts' names and what each proves
//	go run ./internal/reliability -run kill -kills 200
//	go run ./internal/reliability -run ioerr -io-errnos EIO
//
// Parts are selected by name with -run, as `go test -run` selects tests.
// docs/RELIABILITY.md describes each part and records a full run. The
// smoke test (smoke_test.go) runs every part at small sizes in `go test`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"
)

// config holds the size of each part and what to run.
type config struct {
	parts []suitePart // in suite order

	kills         int // kill: SIGKILLed writers
	procs         int // contention and lockchaos: processes of each kind
	perProc       int // contention and lockchaos: writes per process
	hungRounds    int // hung: rounds
	ioErrnos      []string
	ioMax         int    // ioerr: highest occurrence N tried per syscall
	tamperKiB     int    // tamper: size of the fully swept binary store (KiB)
	tamperStep    int    // tamper: sweep every n-th byte offset and length
	tamperArmor   int    // tamper: size of the armored store swept (bytes)
	tamperChunked int    // tamper: window swept in full around the two-chunk store's boundaries
	tamperSparse  int    // tamper: stride of the two-chunk sweep elsewhere
	migKeys       int    // migrate: keys moved
	migKills      int    // migrate: killed migrations
	workers       int    // parallel hush processes where parts allow it
	chaosUnlocked string // lockchaos, the unlocked deleter: check, report or skip
	// timingSlack widens hung's time bounds (1.5 s, 100 ms); the smoke
	// test sets it because it runs beside the whole module's tests.
	timingSlack time.Duration

	seed    uint64
	keep    bool   // keep the temporary root
	hush    string // use this hush binary instead of building one
	verbose bool
}

// defaultConfig is the full run (`make reliability`).
func defaultConfig() config {
	return config{
		parts:         parts,
		kills:         2000,
		procs:         8,
		perProc:       250,
		hungRounds:    20,
		ioErrnos:      []string{"EIO", "ENOSPC"},
		ioMax:         64,
		tamperKiB:     4,
		tamperStep:    1,
		tamperArmor:   800,
		tamperChunked: 256,
		tamperSparse:  257,
		migKeys:       200,
		migKills:      200,
		workers:       2,
		chaosUnlocked: "check",
	}
}

func main() {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(childMain(role))
	}
	os.Exit(cliMain(os.Args[1:], os.Stdout, os.Stderr))
}

// cliMain parses flags, runs the suite and returns the exit code: 0 when
// every guarantee held, 1 when one failed, 2 for a usage error.
func cliMain(args []string, stdout, stderr io.Writer) int {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("reliability", flag.ContinueOnError)
	fs.SetOutput(stderr)
	run := fs.String("run", "", "run only the parts whose names match: a regexp, or a comma-separated list of them, as `go test -run` (default: every part; -list names them)")
	list := fs.Bool("list", false, "print every part's name and what it proves, and exit")
	fs.IntVar(&cfg.kills, "kills", cfg.kills, "kill: SIGKILLed `hush set` writers")
	fs.IntVar(&cfg.procs, "procs", cfg.procs, "contention, lockchaos: processes of each kind (hush set, library increments)")
	fs.IntVar(&cfg.perProc, "per-proc", cfg.perProc, "contention, lockchaos: writes per process")
	fs.IntVar(&cfg.hungRounds, "hung-rounds", cfg.hungRounds, "hung: rounds of stop/timeout/kill/handover")
	errnos := fs.String("io-errnos", strings.Join(cfg.ioErrnos, ","), "ioerr: errnos to inject")
	fs.IntVar(&cfg.ioMax, "io-max", cfg.ioMax, "ioerr: highest occurrence N tried per syscall")
	fs.IntVar(&cfg.tamperKiB, "tamper-kib", cfg.tamperKiB, "tamper: size in KiB of the binary store swept in full (0 = skip)")
	fs.IntVar(&cfg.tamperStep, "tamper-step", cfg.tamperStep, "tamper: sweep every n-th byte offset and length (1 = all)")
	fs.IntVar(&cfg.tamperArmor, "tamper-armor", cfg.tamperArmor, "tamper: size in bytes of the armored store swept in full, all 8 bits (0 = skip)")
	fs.IntVar(&cfg.tamperChunked, "tamper-chunk-window", cfg.tamperChunked, "tamper: bytes swept in full around the header, chunk boundary and end of a 66 KiB two-chunk store (0 = skip)")
	fs.IntVar(&cfg.tamperSparse, "tamper-sparse", cfg.tamperSparse, "tamper: stride of the two-chunk sweep away from those regions")
	fs.IntVar(&cfg.migKeys, "mig-keys", cfg.migKeys, "migrate: keys the migration moves")
	fs.IntVar(&cfg.migKills, "mig-kills", cfg.migKills, "migrate: killed migrations")
	fs.StringVar(&cfg.chaosUnlocked, "chaos-unlocked", cfg.chaosUnlocked, "lockchaos: the deleter that does not take the lock: check (guarantee), report (figures only) or skip")
	fs.IntVar(&cfg.workers, "workers", cfg.workers, "parallel hush processes in tamper and badinput")
	fs.Uint64Var(&cfg.seed, "seed", 0, "random seed (0 = from the clock; printed)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory")
	fs.StringVar(&cfg.hush, "hush", "", "hush binary to test (default: go build ./cmd/hush)")
	fs.BoolVar(&cfg.verbose, "v", false, "log every command to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "reliability: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *list {
		printParts(stdout)
		return 0
	}
	var err error
	if cfg.parts, err = selectParts(*run); err != nil {
		fmt.Fprintf(stderr, "reliability: -run: %v (-list names the parts)\n", err)
		return 2
	}
	cfg.ioErrnos = strings.Split(*errnos, ",")
	if cfg.chaosUnlocked != "check" && cfg.chaosUnlocked != "report" && cfg.chaosUnlocked != "skip" {
		fmt.Fprintf(stderr, "reliability: -chaos-unlocked: %q is not check, report or skip\n", cfg.chaosUnlocked)
		return 2
	}
	rep, err := runSuite(context.Background(), cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "reliability: %v\n", err)
		return 1
	}
	rep.print(stdout)
	if rep.failed() {
		fmt.Fprintln(stdout, "\nFAIL: at least one guarantee did not hold (rows marked FAIL)")
		return 1
	}
	fmt.Fprintln(stdout, "\nPASS: every guarantee held")
	return 0
}

// selectParts returns the parts, in suite order, whose names match expr:
// a comma-separated list of regular expressions, each matched unanchored
// against the part names as `go test -run` matches test names. An empty
// expr selects every part. It returns an error for an invalid regexp and
// for an element that matches no part, so a misspelt name is refused
// rather than running nothing.
func selectParts(expr string) ([]suitePart, error) {
	if strings.TrimSpace(expr) == "" {
		return parts, nil
	}
	chosen := make(map[string]bool)
	for _, e := range strings.Split(expr, ",") {
		e = strings.TrimSpace(e)
		re, err := regexp.Compile(e)
		if err != nil || e == "" {
			return nil, fmt.Errorf("%q is not a regular expression", e)
		}
		matched := false
		for _, p := range parts {
			if re.MatchString(p.name) {
				chosen[p.name], matched = true, true
			}
		}
		if !matched {
			return nil, fmt.Errorf("%q matches no part", e)
		}
	}
	var out []suitePart
	for _, p := range parts {
		if chosen[p.name] {
			out = append(out, p)
		}
	}
	return out, nil
}

// printParts writes one line per part: its name and what it proves.
func printParts(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range parts {
		fmt.Fprintf(tw, "%s\t%s\n", p.name, p.proves)
	}
	tw.Flush()
}

// runSuite builds hush (unless given), runs the selected parts in order
// and returns the report. An error means the suite itself could not run.
func runSuite(ctx context.Context, cfg config, progress io.Writer) (*report, error) {
	if cfg.seed == 0 {
		cfg.seed = uint64(time.Now().UnixNano())
	}
	root, err := os.MkdirTemp("", "hush-reliability-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(root, 0o700); err != nil {
		return nil, err
	}
	if !cfg.keep {
		defer os.RemoveAll(root)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	s := &suite{
		cfg:  cfg,
		root: root,
		rep:  &report{},
		self: []string{exe},
		rng:  rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15)),
	}
	if s.log, err = os.OpenFile(root+"/run.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return nil, err
	}
	defer s.log.Close()
	fmt.Fprintf(progress, "reliability: seed %d, temporary root %s\n", cfg.seed, root)
	s.hush = cfg.hush
	if s.hush != "" {
		// hush runs in each fixture's home, so a relative path would break.
		if s.hush, err = filepath.Abs(s.hush); err != nil {
			return nil, err
		}
	} else {
		if s.hush, err = buildHush(ctx, root); err != nil {
			return nil, err
		}
	}
	for _, p := range cfg.parts {
		start := time.Now()
		fmt.Fprintf(progress, "reliability: %s: %s\n", p.name, p.title)
		if err := p.run(ctx, s); err != nil {
			s.rep.check(p.name, "part ran to the end", err, "no error", false)
		}
		s.rep.info(p.name, "duration", time.Since(start).Round(100*time.Millisecond))
		fmt.Fprintf(progress, "reliability: %s done in %v\n", p.name, time.Since(start).Round(100*time.Millisecond))
		s.rep.printParts(progress, map[string]bool{p.name: true}) // in case a later part never ends
	}
	return s.rep, nil
}

// suitePart is one part of the suite: the name -run selects and the
// table prints, a title for progress lines, the guarantee it proves (for
// -list), and the code that runs it and adds its rows under its name.
type suitePart struct {
	name   string
	title  string
	proves string
	run    func(context.Context, *suite) error
}

// parts is every part in the order the suite runs and prints them.
// docs/RELIABILITY.md describes each under the same name.
var parts = []suitePart{
	{"kill", "kill -9 loop", "a SIGKILLed hush set never corrupts the store or loses an acknowledged write", runKill},
	{"contention", "contention", "concurrent hush set and library writers lose no update and never share the lock", runContention},
	{"lockchaos", "lock chaos", "exclusion holds while the lock file is deleted and replaced, with or without its lock", runLockChaos},
	{"hung", "hung holder", "a stopped lock holder makes hush set exit 6 on time, and its death hands the lock over at once", runHung},
	{"ioerr", "I/O errors", "an injected syscall error or a full disk fails hush set cleanly, never leaving a partial store", runIOErr},
	{"tamper", "tamper and truncation sweep", "every flipped bit and truncation of a store is refused with exit 5 and no output", runTamper},
	{"badinput", "bad-input corpus", "every bad input gets its exit code and a hush: diagnostic, and writes nothing", runBadInput},
	{"local", "local attacker", "what another local user plants (links and pipes at the lock path, hard links, writable directories, files they own, links at outputs) is refused and never written through", runLocal},
	{"migrate", "migration crash points", "a SIGKILLed migration leaves every secret readable and a rerun converges", runMigrate},
	{"canary", "secret leak scan (canary)", "a secret value never reaches stderr, argv, logs or files the user did not name", runCanary},
}
