package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/internal/atomicfile/atomicfiletest"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/internal/lock"
)

// childHold takes the store's lock in a batch that sets "victim", starts a
// subprocess (as an age plugin would be started while the lock is held),
// prints "held <pid of the subprocess>" and waits to be killed.
func childHold(ctx context.Context, f *store.File) error {
	return f.Update(ctx, func(tx store.Tx) error {
		if err := tx.Set("victim", []byte("never written")); err != nil {
			return err
		}
		sub := exec.Command("sleep", "60")
		if err := sub.Start(); err != nil {
			return err
		}
		fmt.Printf("held %d\n", sub.Process.Pid)
		time.Sleep(time.Hour)
		return nil
	})
}

func withTimeout(d time.Duration) func(*store.Options) {
	return func(o *store.Options) { o.LockTimeout = d }
}

// A writer killed with SIGKILL while it holds the lock, even one that has
// started a subprocess inside the critical section, never blocks the next
// writer: the kernel drops the flock with the last descriptor, and the
// lock's descriptor is not inherited by subprocesses.
func TestLockKilledHolder(t *testing.T) {
	ctx := context.Background()
	f, ident := newStore(t)
	if err := f.Set(ctx, "before", []byte("1")); err != nil {
		t.Fatal(err)
	}
	p := start(t, "hold", f.Path(), ident)
	if !p.stdout.Scan() {
		t.Fatalf("holder died: %s", p.stderr)
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(p.stdout.Text(), "held "))
	if err != nil {
		t.Fatalf("holder said %q", p.stdout.Text())
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })

	w := openAs(t, f.Path(), ident, withTimeout(200*time.Millisecond))
	if err := w.Set(ctx, "during", []byte("x")); !errors.Is(err, store.ErrLockTimeout) {
		t.Fatalf("Set while the child holds the lock: %v, want ErrLockTimeout", err)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()

	w = openAs(t, f.Path(), ident, withTimeout(5*time.Second))
	begin := time.Now()
	if err := w.Set(ctx, "after", []byte("2")); err != nil {
		t.Fatalf("Set after the holder was killed: %v", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("the next writer waited %v after the holder died", d)
	}
	fresh := openAs(t, f.Path(), ident)
	if _, err := fresh.Get(ctx, "victim"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the killed holder's unfinished batch is visible: %v", err)
	}
	for _, n := range []string{"before", "after"} {
		if _, err := fresh.Get(ctx, n); err != nil {
			t.Fatalf("Get %s: %v", n, err)
		}
	}
}

// While writer processes increment a counter, a chaos goroutine takes the
// lock and, holding it, deletes the lock file, deletes and recreates it, or
// renames a new file over it (what tools that delete their lock file on
// release do). Writers that were waiting on the old file must notice and
// start over: no two writers are ever inside the critical section (the
// O_EXCL marker) and no increment is lost.
func TestLockFileReplacedUnderWriters(t *testing.T) {
	// holding: the chaos process deletes or replaces the lock file while
	// it holds the lock (as tools that delete lock files on release do).
	// unlocked: it does so at any moment without holding anything, which
	// only the directory lock taken after the file lock can withstand.
	for _, holding := range []bool{true, false} {
		name := map[bool]string{true: "holding", false: "unlocked"}[holding]
		t.Run(name, func(t *testing.T) { testLockFileReplaced(t, holding) })
	}
}

func testLockFileReplaced(t *testing.T, holding bool) {
	const writers, perWriter = 4, 40
	f, ident := newStore(t)
	lockPath := f.LockPath()
	stop := make(chan struct{})
	var rounds atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stop:
				return
			default:
			}
			var l *lock.Lock
			if holding {
				var err error
				if l, err = lock.Acquire(context.Background(), lockPath); err != nil {
					t.Error(err)
					return
				}
			}
			switch rng.IntN(3) {
			case 0:
				os.Remove(lockPath)
			case 1:
				os.Remove(lockPath)
				os.WriteFile(lockPath, nil, 0o600)
			case 2:
				tmp := lockPath + ".chaos"
				os.WriteFile(tmp, nil, 0o600)
				os.Rename(tmp, lockPath)
			}
			time.Sleep(time.Duration(rng.IntN(500)) * time.Microsecond)
			if l != nil {
				l.Unlock()
			}
			rounds.Add(1)
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		}
	}()
	var ps []*proc
	for range writers {
		ps = append(ps, start(t, "counter", f.Path(), ident, envN+"="+strconv.Itoa(perWriter)))
	}
	for _, p := range ps {
		p.wait(t)
	}
	close(stop)
	wg.Wait()
	v, err := openAs(t, f.Path(), ident).Get(context.Background(), "counter")
	if err != nil || string(v) != strconv.Itoa(writers*perWriter) {
		t.Fatalf("counter = %q, %v; want %d", v, err, writers*perWriter)
	}
	t.Logf("%d increments with the lock file deleted or replaced %d times", writers*perWriter, rounds.Load())
}

// A held lock gives an error wrapping ErrLockTimeout within 0.5 s after
// the deadline, whichever of LockTimeout and the context's deadline comes
// first; a cancelled context ends the wait at once with context.Canceled.
// Nothing is written in any case.
func TestLockTimeoutAndCancel(t *testing.T) {
	ctx := context.Background()
	f, ident := newStore(t)
	if err := f.Set(ctx, "k", []byte("old")); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(f.Path())
	holder, err := lock.Acquire(ctx, f.LockPath())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Unlock()
	const deadline = 300 * time.Millisecond

	cases := []struct {
		name    string
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
		want    error
	}{
		{"LockTimeout", deadline, func() (context.Context, context.CancelFunc) { return ctx, func() {} }, store.ErrLockTimeout},
		{"ContextDeadline", time.Minute, func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, deadline) }, store.ErrLockTimeout},
		{"Cancel", time.Minute, func() (context.Context, context.CancelFunc) {
			c, cancel := context.WithCancel(ctx)
			time.AfterFunc(deadline, cancel)
			return c, cancel
		}, context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := openAs(t, f.Path(), ident, withTimeout(c.timeout))
			begin := time.Now()
			cctx, cancel := c.ctx()
			defer cancel()
			err := w.Set(cctx, "k", []byte("new"))
			elapsed := time.Since(begin)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			var ke *store.KeyError
			if !errors.As(err, &ke) || ke.Op != "set" || ke.Name != "k" {
				t.Fatalf("err = %v, want a KeyError naming set and k", err)
			}
			if strings.Contains(err.Error(), "new") {
				t.Fatalf("error %q contains the value", err)
			}
			if elapsed < deadline-10*time.Millisecond || elapsed-deadline >= 500*time.Millisecond {
				t.Fatalf("returned after %v, want within 500ms after %v", elapsed, deadline)
			}
			t.Logf("%v after a %v deadline: %v", elapsed.Round(time.Millisecond), deadline, err)
			if after, _ := os.ReadFile(f.Path()); !bytes.Equal(before, after) {
				t.Fatal("the store changed")
			}
		})
	}
}

// Files are created 0600 and directories 0700, by Create and by every
// write, even under umask 0 (perms_test.go checks the same under the
// default umask); the temp file of every write is 0600 from its creation.
// The lock file is never deleted or replaced by hush.
func TestModesUnderPermissiveUmask(t *testing.T) {
	ctx := context.Background()
	_, ident := newStore(t)
	// The test's own directory is made before the umask changes: one
	// that others can write would be refused.
	path := filepath.Join(t.TempDir(), "a", "b", "store.age")
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	var tempModes []os.FileMode
	atomicfiletest.Inject(t, func(target string, s atomicfile.Step) error {
		if target == path && s == atomicfile.StepSync {
			for _, n := range strays(t, path) {
				if fi, err := os.Stat(filepath.Join(filepath.Dir(path), n)); err == nil {
					tempModes = append(tempModes, fi.Mode().Perm())
				}
			}
		}
		return nil
	})
	c, err := createAs(ctx, path, ident)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	lockFi, err := os.Stat(c.LockPath())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := c.Set(ctx, "k", []byte(fmt.Sprint(time.Now().UnixNano()))); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{filepath.Dir(filepath.Dir(path)), filepath.Dir(path)} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("directory %s: %v, %v; want 0700", d, fi.Mode().Perm(), err)
		}
	}
	for _, p := range []string{path, c.LockPath()} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want 0600", p, fi.Mode().Perm(), err)
		}
	}
	if len(tempModes) != 5 {
		t.Errorf("saw %d temp files, want one per write (5)", len(tempModes))
	}
	for _, m := range tempModes {
		if m != 0o600 {
			t.Errorf("temp file mode %04o, want 0600", m)
		}
	}
	if fi, err := os.Stat(c.LockPath()); err != nil || !os.SameFile(fi, lockFi) {
		t.Errorf("the lock file was deleted or replaced by writes: %v", err)
	}
}
