package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve as the suite's child processes
// (library writers, lock holders, the lock-file chaos process), exactly as
// the reliability binary does.
func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(childMain(role))
	}
	os.Exit(m.Run())
}

// smokeConfig is every part at a size that runs in seconds.
func smokeConfig() config {
	c := defaultConfig()
	c.kills = 20
	c.procs, c.perProc = 2, 10
	c.hungRounds = 1
	c.ioErrnos = []string{"EIO"}
	c.ioMax = 4
	c.tamperKiB = 1
	c.tamperStep = 61
	c.tamperArmor = 700
	c.tamperChunked, c.tamperSparse = 64, 8192
	c.migKeys, c.migKills = 10, 3
	// The smoke run shares the machine with every other package's tests
	// (-race, in parallel): hung's bounds get slack there; the full run
	// holds them exactly.
	c.timingSlack = 2 * time.Second
	return c
}

// TestSmoke runs every part once at small sizes against a freshly built
// hush (or the binary HUSH_RELIABILITY_HUSH names) and fails one subtest
// per part whose guarantees did not hold, quoting the failed rows, and
// one for rows filed under a name that is no part's. The full-size run is
// `make reliability`.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("the reliability smoke run builds hush and runs it a few thousand times")
	}
	cfg := smokeConfig()
	cfg.hush = os.Getenv("HUSH_RELIABILITY_HUSH") // a prebuilt binary, if set
	var progress bytes.Buffer
	rep, err := runSuite(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatalf("the suite could not run: %v\n%s", err, progress.Bytes())
	}
	var table bytes.Buffer
	rep.print(&table)
	t.Logf("reliability smoke run:\n%s", table.Bytes())
	known := make(map[string]bool)
	for _, p := range parts {
		known[p.name] = true
		t.Run(p.name, func(t *testing.T) {
			seen := false
			for _, r := range rep.rows {
				if r.part != p.name {
					continue
				}
				seen = true
				if !r.ok {
					t.Errorf("%s: got %s, want %s", r.measure, r.value, r.expected)
				}
			}
			if !seen {
				t.Errorf("part %s reported nothing", p.name)
			}
		})
	}
	for _, r := range rep.rows {
		if !known[r.part] {
			t.Errorf("row %q is filed under %q, which is no part's name", r.measure, r.part)
		}
	}
}

// TestReportFailsOnBrokenGuarantee checks the table's own logic: a row
// that does not hold makes the run fail, an info row never does.
func TestReportFailsOnBrokenGuarantee(t *testing.T) {
	var r report
	r.info("kill", "figure", 3)
	r.equal("kill", "lost writes", 0, 0)
	if r.failed() {
		t.Fatal("a report with only holding rows failed")
	}
	r.equal("contention", "counter", 1999, 2000)
	if !r.failed() || len(r.failures()) != 1 {
		t.Fatalf("failures = %v, want the counter row", r.failures())
	}
	var b bytes.Buffer
	r.print(&b)
	if !bytes.Contains(b.Bytes(), []byte("FAIL")) {
		t.Fatalf("table does not mark the failed row:\n%s", b.Bytes())
	}
}

// TestPercentile pins the nearest-rank percentile used for lock waits.
func TestPercentile(t *testing.T) {
	var ds []int
	for i := 1; i <= 100; i++ {
		ds = append(ds, i)
	}
	durs := make([]time.Duration, len(ds))
	for i, d := range ds {
		durs[i] = time.Duration(d)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50}, {99, 99}, {100, 100}, {0, 1}} {
		if got := percentile(durs, c.p); got != c.want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", c.p, got, c.want)
		}
	}
}

// TestUsage checks that bad flags are refused before anything runs.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-run", "nosuch"},
		{"-run", "kill,nosuch"},
		{"-run", "kill,"},
		{"-run", "("},
		{"-part", "5"}, // the numbered flag is gone
		{"-chaos-unlocked", "maybe"},
		{"extra"},
		{"-bogus"},
	} {
		// A missing hush binary makes a wrongly accepted case fail at
		// once instead of running the suite at full size.
		args = append([]string{"-hush", "/nonexistent/hush"}, args...)
		var out, errb bytes.Buffer
		if code := cliMain(args, &out, &errb); code != 2 {
			t.Errorf("cliMain(%q) = %d, want 2 (stderr %q)", args, code, errb.String())
		}
	}
}

// TestSelectParts pins -run: parts are chosen by name, by regexp or a
// comma-separated list, unanchored like `go test -run`, always in suite
// order; a name that matches no part is refused.
func TestSelectParts(t *testing.T) {
	for _, c := range []struct {
		expr string
		want string // the chosen names, space-separated
	}{
		{"ioerr", "ioerr"},
		{"tamper,kill", "kill tamper"},
		{"kill|canary", "kill canary"},
		{"chaos", "lockchaos"},
		{"^contention$", "contention"},
		{" hung , migrate ", "hung migrate"},
		{"", "kill contention lockchaos hung ioerr tamper badinput local migrate canary"},
		{".", "kill contention lockchaos hung ioerr tamper badinput local migrate canary"},
	} {
		got, err := selectParts(c.expr)
		if err != nil {
			t.Errorf("selectParts(%q): %v", c.expr, err)
			continue
		}
		var names []string
		for _, p := range got {
			names = append(names, p.name)
		}
		if s := strings.Join(names, " "); s != c.want {
			t.Errorf("selectParts(%q) = %q, want %q", c.expr, s, c.want)
		}
	}
	for _, expr := range []string{"ioerrs", "5", "kill,5", "("} {
		if got, err := selectParts(expr); err == nil {
			t.Errorf("selectParts(%q) = %d parts, want an error", expr, len(got))
		}
	}
}

// TestList checks that -list prints one line per part, its name first
// and then what it proves, and runs nothing.
func TestList(t *testing.T) {
	var out, errb bytes.Buffer
	if code := cliMain([]string{"-list"}, &out, &errb); code != 0 {
		t.Fatalf("-list exited %d: %s", code, errb.Bytes())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(parts) {
		t.Fatalf("-list printed %d lines, want %d:\n%s", len(lines), len(parts), out.Bytes())
	}
	for i, l := range lines {
		name, proves, _ := strings.Cut(l, " ")
		if name != parts[i].name || strings.TrimSpace(proves) != parts[i].proves || proves == "" {
			t.Errorf("-list line %d = %q, want %s and what it proves", i+1, l, parts[i].name)
		}
	}
	if errb.Len() != 0 {
		t.Errorf("-list wrote to stderr: %s", errb.Bytes())
	}
}

// TestPartNames checks that names are unique, lower-case words fit for
// -run, and that each part says what it proves.
func TestPartNames(t *testing.T) {
	seen := make(map[string]bool)
	for _, p := range parts {
		if !regexp.MustCompile(`^[a-z]+$`).MatchString(p.name) || seen[p.name] {
			t.Errorf("part name %q: want a unique lower-case word", p.name)
		}
		seen[p.name] = true
		if p.proves == "" || p.title == "" || p.run == nil {
			t.Errorf("part %s is missing its title, what it proves or its code", p.name)
		}
	}
}
