package migrate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store"
)

// The test binary re-executed as a child applies a scenario's migration.
// Its environment selects the role:
//
//	HUSH_MIGRATE_CHILD=apply  the role
//	HUSH_MIGRATE_STORE        store path
//	HUSH_MIGRATE_IDENTITY     identity file
//	HUSH_MIGRATE_KEYS         scenario size
//	HUSH_MIGRATE_CLASHES=1    the scenario with clashes
//	HUSH_MIGRATE_UNBATCHED=1  hide the store's atomic batches
//	HUSH_MIGRATE_WAIT=1       wait for a line on stdin before applying
//
// It prints "ready" once the store is open, then the report as JSON.
func TestMain(m *testing.M) {
	if os.Getenv("HUSH_MIGRATE_CHILD") == "apply" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

func child() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "child:", err); return 1 }
	idText, err := os.ReadFile(os.Getenv("HUSH_MIGRATE_IDENTITY"))
	if err != nil {
		return fail(err)
	}
	id, err := age.ParseX25519Identity(strings.TrimSpace(string(idText)))
	if err != nil {
		return fail(err)
	}
	n, err := strconv.Atoi(os.Getenv("HUSH_MIGRATE_KEYS"))
	if err != nil {
		return fail(err)
	}
	f, err := store.Open(os.Getenv("HUSH_MIGRATE_STORE"), store.Options{Identities: []age.Identity{id}})
	if err != nil {
		return fail(err)
	}
	var p store.Provider = f
	if os.Getenv("HUSH_MIGRATE_UNBATCHED") == "1" {
		p = &faulty{p: f} // never fails; hides store.Updater
	}
	fmt.Println("ready")
	if os.Getenv("HUSH_MIGRATE_WAIT") == "1" {
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return fail(err)
		}
	}
	rep, err := newScenario(n, os.Getenv("HUSH_MIGRATE_CLASHES") == "1").m.Apply(ctx, p)
	if err != nil && !errors.Is(err, ErrClash) {
		return fail(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return fail(err)
	}
	return 0
}

// proc is a running child.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

func startChild(t *testing.T, path, idFile string, keys int, unbatched, clashes, wait bool) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// The race detector sleeps a second before a process exits, unless told not to.
	cmd.Env = append(os.Environ(), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"),
		"HUSH_MIGRATE_CHILD=apply", "HUSH_MIGRATE_STORE="+path, "HUSH_MIGRATE_IDENTITY="+idFile,
		"HUSH_MIGRATE_KEYS="+strconv.Itoa(keys),
		"HUSH_MIGRATE_UNBATCHED="+map[bool]string{true: "1"}[unbatched],
		"HUSH_MIGRATE_CLASHES="+map[bool]string{true: "1"}[clashes],
		"HUSH_MIGRATE_WAIT="+map[bool]string{true: "1"}[wait])
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(out)}
	line, err := p.stdout.ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not get ready: %q, %v", line, err)
	}
	return p
}

// finish waits for a child that was not killed and returns its report.
func (p *proc) finish(t *testing.T) *Report {
	t.Helper()
	out, _ := io.ReadAll(p.stdout)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	var rep Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("child report %q: %v", out, err)
	}
	return &rep
}

func writeIdentity(t *testing.T, dir string, id *age.X25519Identity) string {
	t.Helper()
	p := filepath.Join(dir, "identity.txt")
	if err := os.WriteFile(p, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// restore puts the seeded store back at path (no process is using it).
func (s *snapshot) restore(t *testing.T, path string) {
	t.Helper()
	tmp := path + ".restore"
	if err := os.WriteFile(tmp, s.data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestKillAnyMoment SIGKILLs processes applying a migration at random
// moments and checks, after every kill, that every secret is readable with
// its original value (old name or fallback) and nothing was overwritten.
// The store is reused from kill to kill, so the migration advances across
// kills and they land in every phase (the delays are drawn from the time
// an unkilled run takes); when a run completes, the end state is checked
// and the seeded store restored. A final in-process rerun must
// complete with the expected end state.
//
// With atomic batches (the file store as it is) a 200-key migration is one
// write, so a kill leaves the store before or after it, never between. Without them
// every read and write is a separate step; that migration of 40 keys makes
// about 80 writes, so the kills also land between the deletions. A third
// phase mixes clashes in: both keys of each must survive every kill.
// HUSH_LONG=1 makes it 500 kills with batches, 300 of a 200-key migration
// without, and 200 with clashes.
func TestKillAnyMoment(t *testing.T) {
	long := os.Getenv("HUSH_LONG") != ""
	phases := []struct {
		unbatched, clashes bool
		keys, kills        int
	}{{false, false, 200, 100}, {true, false, 40, 40}, {false, true, 200, 40}}
	if long {
		phases[0].kills, phases[1].keys, phases[1].kills, phases[2].kills = 500, 200, 300, 200
	}
	for _, ph := range phases {
		sc := newScenario(ph.keys, ph.clashes)
		snap := newSnapshot(t, sc)
		idFile := writeIdentity(t, snap.dir, snap.id)
		path := filepath.Join(snap.dir, "kill.age")
		snap.restore(t, path)
		// An unkilled run measures how long a whole migration takes on this
		// machine now; kills are then spread over that time, so that they
		// land in every phase however fast or loaded the machine is.
		p := startChild(t, path, idFile, ph.keys, ph.unbatched, ph.clashes, false)
		t0 := time.Now()
		if _, err := p.stdout.ReadString('\n'); err != nil { // the report, once Apply returned
			t.Fatal(err)
		}
		span := min(time.Since(t0), 2*time.Second)
		if err := p.cmd.Wait(); err != nil {
			t.Fatal(err)
		}
		sc.checkFinal(t, snap.open(t, path))
		snap.restore(t, path)
		kills, completed, restarts := 0, 0, 0
		landed := map[string]int{} // the phase each kill left the store in
		start := time.Now()
		for kills < ph.kills {
			p := startChild(t, path, idFile, ph.keys, ph.unbatched, ph.clashes, false)
			time.Sleep(rand.N(span))
			p.cmd.Process.Signal(syscall.SIGKILL)
			err := p.cmd.Wait()
			var ee *exec.ExitError
			switch {
			case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled():
				kills++
			case err == nil:
				completed++
			default:
				t.Fatalf("child failed: %v", err)
			}
			disk := snap.open(t, path)
			sc.checkReadable(t, disk)
			phase := sc.phaseOf(t, disk)
			if err == nil {
				landed["finished"]++
			} else {
				landed[phase]++
			}
			// On a loaded machine one calibration run says little: while
			// kills keep landing before the first write, spread them
			// over a longer time.
			if ph.unbatched && phase == "before" && landed["copying"]+landed["deleting"] == 0 && landed["before"]%5 == 0 {
				span = min(2*span, 2*time.Second)
			}
			if phase == "done" {
				sc.checkFinal(t, disk)
				snap.restore(t, path)
				restarts++
			}
		}
		disk := snap.open(t, path)
		if _, err := sc.m.Apply(ctx, disk); err != nil && !(ph.clashes && errors.Is(err, ErrClash)) {
			t.Fatal(err)
		}
		sc.checkFinal(t, disk)
		t.Logf("%d keys, unbatched=%v, clashes=%v: kills spread over %v; %d kills and %d unkilled runs left the store %v; %d full migrations; %v",
			ph.keys, ph.unbatched, ph.clashes, span.Round(time.Millisecond), kills, completed, landed, restarts, time.Since(start).Round(time.Millisecond))
		// Without atomic batches the kills must have hit the migration
		// mid-way, or the test proved nothing. Where else they landed
		// depends on timing (on a loaded machine none may land before the
		// first write), so only this is required.
		if ph.unbatched && landed["copying"]+landed["deleting"] == 0 {
			t.Errorf("no kill landed during the migration: %v", landed)
		}
		// With them the migration is one write: a kill leaves the store
		// as it was or as it ends, never mid-way; kills must have landed
		// while the migration ran, before its write.
		if !ph.unbatched && (landed["copying"]+landed["deleting"] != 0 || landed["before"] == 0) {
			t.Errorf("one write: kills left the store %v; want before or done only, some before", landed)
		}
	}
}

// TestConcurrentApply starts processes applying the same migration at the
// same moment (each waits on its stdin for the starting shot): all succeed,
// the end state is the expected one, and with atomic batches exactly one
// of them records completion (none, when there are clashes: every process
// reports each of them).
func TestConcurrentApply(t *testing.T) {
	for _, tc := range []struct {
		name      string
		unbatched bool
		clashes   bool
		keys      int
		procs     int
		rounds    int
		dir       func(t testing.TB) string
	}{
		{"batched", false, false, 200, 2, 3, func(t testing.TB) string { return t.TempDir() }}, // a real disk: fsync and all
		{"batched-4procs", false, false, 200, 4, 2, func(t testing.TB) string { return t.TempDir() }},
		{"unbatched", true, false, 60, 2, 3, storeDir},
		{"batched-clashes", false, true, 200, 3, 2, storeDir},
		{"unbatched-clashes", true, true, 60, 2, 2, storeDir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScenario(tc.keys, tc.clashes)
			for round := 0; round < tc.rounds; round++ {
				dir := tc.dir(t)
				f, id := newStoreIn(t, dir)
				sc.seed(t, f)
				idFile := writeIdentity(t, dir, id)
				var ps []*proc
				for i := 0; i < tc.procs; i++ {
					ps = append(ps, startChild(t, f.Path(), idFile, tc.keys, tc.unbatched, tc.clashes, true))
				}
				for _, p := range ps {
					io.WriteString(p.stdin, "go\n")
				}
				recorded := 0
				handled := map[string]bool{}
				for _, p := range ps {
					rep := p.finish(t)
					if rep.Recorded {
						recorded++
					}
					for _, n := range append(rep.Moved, rep.AlreadyPresent...) {
						handled[n] = true
					}
					if len(rep.Clashes) != len(sc.clash) {
						t.Fatalf("round %d: a process reported %d clashes, want %d", round, len(rep.Clashes), len(sc.clash))
					}
					for _, mv := range rep.Clashes {
						if !sc.clash[mv.Old] || !mv.Clash {
							t.Fatalf("round %d: reported clash %+v is none", round, mv)
						}
						handled[mv.Old] = true
					}
				}
				sc.checkFinal(t, reopen(t, f, id))
				if tc.clashes && recorded != 0 {
					t.Fatalf("round %d: %d processes recorded completion despite clashes", round, recorded)
				}
				if !tc.clashes && (recorded == 0 || (!tc.unbatched && recorded != 1)) {
					t.Fatalf("round %d: %d processes recorded completion", round, recorded)
				}
				if len(handled) != tc.keys {
					t.Fatalf("round %d: the reports account for %d of %d keys", round, len(handled), tc.keys)
				}
			}
		})
	}
}

func newStoreIn(t testing.TB, dir string) (*store.File, *age.X25519Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	f, err := store.Create(ctx, filepath.Join(dir, "store.age"), []string{id.Recipient().String()}, store.Options{Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	return f, id
}

func reopen(t testing.TB, f *store.File, id *age.X25519Identity) *store.File {
	t.Helper()
	g, err := store.Open(f.Path(), store.Options{Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	return g
}
