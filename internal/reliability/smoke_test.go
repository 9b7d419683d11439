package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
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
	// (-race, in parallel): part 4's bounds get slack there; the full run
	// holds them exactly.
	c.timingSlack = 2 * time.Second
	return c
}

// TestSmoke runs all nine parts once at small sizes against a freshly
// built hush (or the binary HUSH_RELIABILITY_HUSH names) and fails one subtest per part whose guarantees did not hold,
// quoting the failed rows. The full-size run is `make reliability`.
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
	for _, p := range defaultConfig().parts {
		t.Run(fmt.Sprintf("part%d", p), func(t *testing.T) {
			seen := false
			for _, r := range rep.rows {
				if r.part != p {
					continue
				}
				seen = true
				if !r.ok {
					t.Errorf("%s: got %s, want %s", r.measure, r.value, r.expected)
				}
			}
			if !seen {
				t.Errorf("part %d reported nothing", p)
			}
		})
	}
}

// TestReportFailsOnBrokenGuarantee checks the table's own logic: a row
// that does not hold makes the run fail, an info row never does.
func TestReportFailsOnBrokenGuarantee(t *testing.T) {
	var r report
	r.info(1, "figure", 3)
	r.equal(1, "lost writes", 0, 0)
	if r.failed() {
		t.Fatal("a report with only holding rows failed")
	}
	r.equal(2, "counter", 1999, 2000)
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
		{"-part", "10"},
		{"-part", "x"},
		{"-chaos-unlocked", "maybe"},
		{"extra"},
		{"-bogus"},
	} {
		var out, errb bytes.Buffer
		if code := cliMain(args, &out, &errb); code != 2 {
			t.Errorf("cliMain(%q) = %d, want 2 (stderr %q)", args, code, errb.String())
		}
	}
}
