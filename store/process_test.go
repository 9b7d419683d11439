package store_test

// Multi-process tests re-execute the test binary: TestHelperProcess runs a
// child role named by HUSH_TEST_CHILD and exits. The children's roles live
// in this file; the tests that start them are spread over process_test.go,
// crash_test.go, lock_test.go and cache_test.go.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

const (
	envChild    = "HUSH_TEST_CHILD"    // the role of a child process
	envStore    = "HUSH_TEST_STORE"    // the store's path
	envIdentity = "HUSH_TEST_IDENTITY" // the age identity that opens it
	envN        = "HUSH_TEST_N"        // role parameter: how many operations
	envID       = "HUSH_TEST_ID"       // role parameter: the child's number
)

// TestHelperProcess is not a test: it is the entry point of child
// processes started by the multi-process tests.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(envChild)
	if role == "" {
		return
	}
	if err := runChild(role); err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
		os.Exit(1)
	}
	if collisions > 0 {
		fmt.Fprintf(os.Stderr, "child %s: %d exclusion marker collisions: two writers were inside the critical section at once\n", role, collisions)
		os.Exit(1)
	}
	os.Exit(0)
}

func runChild(role string) error {
	id, err := age.ParseX25519Identity(os.Getenv(envIdentity))
	if err != nil {
		return err
	}
	f, err := store.Open(os.Getenv(envStore), store.Options{Identities: []age.Identity{id}, LockTimeout: time.Minute})
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(os.Getenv(envN))
	me, _ := strconv.Atoi(os.Getenv(envID))
	ctx := context.Background()
	switch role {
	case "writer":
		return childWriter(ctx, f, me, n)
	case "counter":
		return childCounter(ctx, f, n)
	case "crash":
		return childCrash(ctx, f, n)
	case "hold":
		return childHold(ctx, f)
	case "ticker":
		return childTicker(ctx, f, n)
	case "handover":
		return childHandover(f)
	case "get":
		v, err := f.Get(ctx, "K")
		fmt.Printf("%s\n", v)
		return err
	}
	return fmt.Errorf("unknown role %q", role)
}

// childWriter runs n batches through one long-lived *store.File; batch j
// sets the writer's own key j and increments the shared counter (see
// increment). One write per batch keeps the test fast; Set is a one-key
// batch on the same path.
func childWriter(ctx context.Context, f *store.File, me, n int) error {
	for j := range n {
		err := increment(ctx, f, func(tx store.Tx) error {
			return tx.Set(writerKey(me, j), []byte(writerValue(me, j)))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func writerKey(w, j int) string   { return fmt.Sprintf("w%d_k%03d", w, j) }
func writerValue(w, j int) string { return fmt.Sprintf("value of writer %d, key %d", w, j) }

func childCounter(ctx context.Context, f *store.File, n int) error {
	for range n {
		if err := increment(ctx, f, nil); err != nil {
			return err
		}
	}
	return nil
}

// increment adds one to "counter" through the batch API, and runs also (if
// not nil) in the same batch. Inside the critical section it holds an
// exclusion marker created with O_EXCL: if the marker already exists,
// another writer is inside at the same time.
func increment(ctx context.Context, f *store.File, also func(store.Tx) error) error {
	return store.Update(ctx, f, func(tx store.Tx) error {
		marker := markerPath(f.Path())
		m, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		switch {
		case errors.Is(err, os.ErrExist):
			// Record it and carry on, so a broken lock also shows as
			// lost updates; the child fails at the end.
			collisions++
		case err != nil:
			return err
		default:
			m.Close()
			defer os.Remove(marker)
		}
		n := 0
		if v, err := tx.Get("counter"); err == nil {
			n, _ = strconv.Atoi(string(v))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		return tx.Set("counter", []byte(strconv.Itoa(n+1)))
	})
}

// collisions counts the times this child found the exclusion marker
// already there; the batch function runs on one goroutine at a time.
var collisions int

func markerPath(storePath string) string {
	return filepath.Join(filepath.Dir(storePath), "critical.marker")
}

// newStore creates an empty store and returns it with the identity's text.
func newStore(t testing.TB) (*store.File, string) {
	t.Helper()
	f, id := storetest.NewFile(t)
	return f, id.String()
}

func openAs(t testing.TB, path, identity string, opts ...func(*store.Options)) *store.File {
	t.Helper()
	id, err := age.ParseX25519Identity(identity)
	if err != nil {
		t.Fatal(err)
	}
	o := store.Options{Identities: []age.Identity{id}}
	for _, fn := range opts {
		fn(&o)
	}
	f, err := store.Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// createAs creates a store at path encrypted to identity's recipient.
func createAs(ctx context.Context, path, identity string, opts ...func(*store.Options)) (*store.File, error) {
	id, err := age.ParseX25519Identity(identity)
	if err != nil {
		return nil, err
	}
	o := store.Options{Identities: []age.Identity{id}}
	for _, fn := range opts {
		fn(&o)
	}
	return store.Create(ctx, path, []string{id.Recipient().String()}, o)
}

// proc is a running child process.
type proc struct {
	cmd    *exec.Cmd
	stdout *bufio.Scanner
	stdin  io.WriteCloser
	stderr *strings.Builder
}

// start starts a child in role on the store at path. env adds KEY=VALUE
// settings. The child's stdout is readable line by line through p.stdout.
func start(t testing.TB, role, path, identity string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChild+"="+role, envStore+"="+path, envIdentity+"="+identity)
	// The race detector sleeps a second at exit by default; no need here.
	cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	cmd.Env = append(cmd.Env, env...)
	p := &proc{cmd: cmd, stderr: new(strings.Builder)}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin, err = cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = bufio.NewScanner(out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return p
}

// wait waits for the child and fails t, with its stderr, if it failed.
func (p *proc) wait(t testing.TB) {
	t.Helper()
	for p.stdout.Scan() {
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("child %v: %v\n%s", p.cmd.Env[len(os.Environ())], err, p.stderr)
	}
}

// expect reads stdout lines until one equals want.
func (p *proc) expect(t testing.TB, want string) {
	t.Helper()
	for p.stdout.Scan() {
		if p.stdout.Text() == want {
			return
		}
	}
	p.cmd.Wait()
	t.Fatalf("child exited before printing %q: %s", want, p.stderr)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// strays lists the temp files of the write path left beside the store.
func strays(t testing.TB, path string) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if atomicfile.IsTemp(path, de.Name()) {
			out = append(out, de.Name())
		}
	}
	return out
}

// Eight processes write at once, each through its own long-lived
// *store.File: 100 batches each, every batch setting one of the writer's
// 100 distinct keys and incrementing one shared counter, inside a critical
// section that holds an O_EXCL marker. All 800 keys must be present, the
// counter must be exactly 800, and no two writers may ever be inside the
// critical section together.
func TestMultiProcessNoLostUpdate(t *testing.T) {
	const writers, perWriter = 8, 100
	f, ident := newStore(t)
	var ps []*proc
	for w := range writers {
		ps = append(ps, start(t, "writer", f.Path(), ident, envID+"="+strconv.Itoa(w), envN+"="+strconv.Itoa(perWriter)))
	}
	for _, p := range ps {
		p.wait(t)
	}
	ctx := context.Background()
	fresh := openAs(t, f.Path(), ident)
	es, err := fresh.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != writers*perWriter+1 {
		t.Errorf("%d entries, want %d keys and the counter", len(es), writers*perWriter)
	}
	missing := 0
	for w := range writers {
		for j := range perWriter {
			v, err := fresh.Get(ctx, writerKey(w, j))
			if err != nil || string(v) != writerValue(w, j) {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d keys lost or wrong", missing, writers*perWriter)
	}
	if v, err := fresh.Get(ctx, "counter"); err != nil || string(v) != strconv.Itoa(writers*perWriter) {
		t.Errorf("counter = %q, %v; want %d", v, err, writers*perWriter)
	}
	if _, err := os.Stat(markerPath(f.Path())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("exclusion marker left behind: %v", err)
	}
	if s := strays(t, f.Path()); len(s) > 0 {
		t.Errorf("temp files left: %v", s)
	}
}
