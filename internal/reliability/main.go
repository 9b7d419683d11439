// Command reliability runs hush's reliability suite against the real hush
// binary and prints one table of figures: kill -9 loops, multi-process
// contention, lock-file chaos, a hung lock holder, injected I/O errors,
// tamper and truncation sweeps, a bad-input corpus, migration crash points
// and a secret-leak scan. It exits 1 if any guarantee failed.
//
//	go run ./reliability                 # every part at its default size
//	go run ./reliability -part 1 -kills 200
//	go run ./reliability -part 5 -io-errnos EIO
//
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
	"sort"
	"strconv"
	"strings"
	"time"
)

// config holds the size of each part and what to run.
type config struct {
	parts []int

	kills         int // part 1: SIGKILLed writers
	procs         int // parts 2 and 3: processes of each kind
	perProc       int // parts 2 and 3: writes per process
	hungRounds    int // part 4: rounds
	ioErrnos      []string
	ioMax         int    // part 5: highest occurrence N tried per syscall
	tamperKiB     int    // part 6: size of the fully swept binary store (KiB)
	tamperStep    int    // part 6: sweep every n-th byte offset and length
	tamperArmor   int    // part 6: size of the armored store swept (bytes)
	tamperChunked int    // part 6: window swept in full around the two-chunk store's boundaries
	tamperSparse  int    // part 6: stride of the two-chunk sweep elsewhere
	migKeys       int    // part 8: keys moved
	migKills      int    // part 8: killed migrations
	workers       int    // parallel hush processes where parts allow it
	chaosUnlocked string // part 3b: check, report or skip
	// timingSlack widens part 4's time bounds (1.5 s, 100 ms); the smoke
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
		parts:         []int{1, 2, 3, 4, 5, 6, 7, 8, 9},
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
	parts := fs.String("part", "all", "parts to run: all, or a comma-separated list of 1-9")
	fs.IntVar(&cfg.kills, "kills", cfg.kills, "part 1: SIGKILLed `hush set` writers")
	fs.IntVar(&cfg.procs, "procs", cfg.procs, "parts 2-3: processes of each kind (hush set, library increments)")
	fs.IntVar(&cfg.perProc, "per-proc", cfg.perProc, "parts 2-3: writes per process")
	fs.IntVar(&cfg.hungRounds, "hung-rounds", cfg.hungRounds, "part 4: rounds of stop/timeout/kill/handover")
	errnos := fs.String("io-errnos", strings.Join(cfg.ioErrnos, ","), "part 5: errnos to inject")
	fs.IntVar(&cfg.ioMax, "io-max", cfg.ioMax, "part 5: highest occurrence N tried per syscall")
	fs.IntVar(&cfg.tamperKiB, "tamper-kib", cfg.tamperKiB, "part 6: size in KiB of the binary store swept in full (0 = skip)")
	fs.IntVar(&cfg.tamperStep, "tamper-step", cfg.tamperStep, "part 6: sweep every n-th byte offset and length (1 = all)")
	fs.IntVar(&cfg.tamperArmor, "tamper-armor", cfg.tamperArmor, "part 6: size in bytes of the armored store swept in full, all 8 bits (0 = skip)")
	fs.IntVar(&cfg.tamperChunked, "tamper-chunk-window", cfg.tamperChunked, "part 6: bytes swept in full around the header, chunk boundary and end of a 66 KiB two-chunk store (0 = skip)")
	fs.IntVar(&cfg.tamperSparse, "tamper-sparse", cfg.tamperSparse, "part 6: stride of the two-chunk sweep away from those regions")
	fs.IntVar(&cfg.migKeys, "mig-keys", cfg.migKeys, "part 8: keys the migration moves")
	fs.IntVar(&cfg.migKills, "mig-kills", cfg.migKills, "part 8: killed migrations")
	fs.StringVar(&cfg.chaosUnlocked, "chaos-unlocked", cfg.chaosUnlocked, "part 3: the deleter that does not take the lock: check (guarantee), report (figures only) or skip")
	fs.IntVar(&cfg.workers, "workers", cfg.workers, "parallel hush processes in parts 6 and 7")
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
	var err error
	if cfg.parts, err = parseParts(*parts); err != nil {
		fmt.Fprintf(stderr, "reliability: %v\n", err)
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

func parseParts(s string) ([]int, error) {
	if s == "all" || s == "" {
		return defaultConfig().parts, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 9 {
			return nil, fmt.Errorf("-part: %q is not a part number 1-9", f)
		}
		out = append(out, n)
	}
	sort.Ints(out)
	return out, nil
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
		fmt.Fprintf(progress, "reliability: part %d: %s\n", p, partNames[p])
		if err := partFuncs[p](ctx, s); err != nil {
			s.rep.check(p, "part ran to the end", err, "no error", false)
		}
		s.rep.info(p, "duration", time.Since(start).Round(100*time.Millisecond))
		fmt.Fprintf(progress, "reliability: part %d done in %v\n", p, time.Since(start).Round(100*time.Millisecond))
		s.rep.printParts(progress, map[int]bool{p: true}) // in case a later part never ends
	}
	return s.rep, nil
}

var partNames = map[int]string{
	1: "kill -9 loop",
	2: "contention",
	3: "lock chaos",
	4: "hung holder",
	5: "I/O errors",
	6: "tamper and truncation sweep",
	7: "bad-input corpus",
	8: "migration crash points",
	9: "secret leak scan (canary)",
}

var partFuncs = map[int]func(context.Context, *suite) error{
	1: part1Kill,
	2: part2Contention,
	3: part3Chaos,
	4: part4Hung,
	5: part5IO,
	6: part6Tamper,
	7: part7BadInput,
	8: part8Migrate,
	9: part9Canary,
}
