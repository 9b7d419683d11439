package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

func lockPath(t *testing.T) string { return filepath.Join(t.TempDir(), "store.age.lock") }

func acquire(t *testing.T, path string) *Lock {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := Acquire(ctx, path)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	return l
}

func ino(t *testing.T, fi os.FileInfo) uint64 {
	t.Helper()
	return fi.Sys().(*syscall.Stat_t).Ino
}

// heldIno is the inode of the file a held lock is on.
func heldIno(t *testing.T, l *Lock) uint64 {
	t.Helper()
	fi, err := l.fl.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return ino(t, fi)
}

// waitBlocked waits until some process is blocked in flock(2) on the file
// with inode ino, as /proc/locks shows ("->" lines). Where /proc/locks is
// not available it sleeps a while instead.
func waitBlocked(t *testing.T, ino uint64) {
	t.Helper()
	suffix := fmt.Sprintf(":%d", ino)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/locks")
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) > 6 && f[1] == "->" && strings.HasSuffix(f[6], suffix) {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no waiter blocked on inode %d after 5s", ino)
}

// freeNow reports whether another open file description could take the
// lock at path right now, without waiting.
func freeNow(t *testing.T, path string) bool {
	t.Helper()
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	err = syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		syscall.Flock(fd, syscall.LOCK_UN)
		return true
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatal(err)
	}
	return false
}

func TestAcquireCreatesPrivateFileAndNeverDeletesIt(t *testing.T) {
	old := syscall.Umask(0) // a permissive umask must not loosen the mode
	defer syscall.Umask(old)
	path := lockPath(t)
	l := acquire(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("lock file missing while held: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file mode %04o, want 0600", fi.Mode().Perm())
	}
	first := ino(t, fi)
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		acquire(t, path).Unlock()
	}
	fi, err = os.Stat(path)
	if err != nil {
		t.Fatalf("lock file deleted on release: %v", err)
	}
	if ino(t, fi) != first {
		t.Fatalf("lock file replaced: inode %d, was %d", ino(t, fi), first)
	}
}

func TestExclusive(t *testing.T) {
	path := lockPath(t)
	l := acquire(t, path)
	if freeNow(t, path) {
		t.Fatal("another descriptor took the lock while it was held")
	}
	l.Unlock()
	if !freeNow(t, path) {
		t.Fatal("lock still held after Unlock")
	}
}

// A waiter that locked a file that was then replaced at the path (or
// deleted) must notice and lock the file now at the path; otherwise it
// would exclude nobody.
func TestRecheckAfterReplaceOrDelete(t *testing.T) {
	for _, how := range []string{"replace", "delete"} {
		t.Run(how, func(t *testing.T) {
			path := lockPath(t)
			holder := acquire(t, path)
			old := heldIno(t, holder)
			type result struct {
				l   *Lock
				err error
			}
			got := make(chan result, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				l, err := Acquire(ctx, path)
				got <- result{l, err}
			}()
			waitBlocked(t, old) // the waiter has the old file open and waits on it
			switch how {
			case "replace":
				tmp := path + ".new"
				if err := os.WriteFile(tmp, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, path); err != nil {
					t.Fatal(err)
				}
			case "delete":
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			}
			holder.Unlock()
			r := <-got
			if r.err != nil {
				t.Fatal(r.err)
			}
			w := r.l
			defer w.Unlock()
			cur, err := os.Stat(path)
			if err != nil {
				t.Fatalf("no lock file at the path after the waiter acquired: %v", err)
			}
			if h := heldIno(t, w); h != ino(t, cur) {
				t.Fatalf("waiter holds inode %d but the path is inode %d (old %d): it excludes nobody", h, ino(t, cur), old)
			}
			if freeNow(t, path) {
				t.Fatal("a newcomer could lock the path while the waiter holds the lock")
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	path := lockPath(t)
	holder := acquire(t, path)
	defer holder.Unlock()
	const timeout = 300 * time.Millisecond
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	l, err := Acquire(ctx, path)
	elapsed := time.Since(start)
	if err == nil {
		l.Unlock()
		t.Fatal("Acquire succeeded while the lock was held")
	}
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrTimeout wrapping context.DeadlineExceeded", err)
	}
	if elapsed < timeout || elapsed-timeout > 500*time.Millisecond {
		t.Fatalf("returned after %v, want within 500ms after %v", elapsed, timeout)
	}
}

func TestCancel(t *testing.T) {
	path := lockPath(t)
	holder := acquire(t, path)
	defer holder.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := Acquire(ctx, path)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if e := time.Since(start); e > 600*time.Millisecond {
		t.Fatalf("cancellation honoured after %v", e)
	}
}

// A waiter that gave up must not keep the lock when it later becomes
// free: its abandoned flock call releases the lock at once.
func TestAbandonedWaiterDoesNotKeepTheLock(t *testing.T) {
	path := lockPath(t)
	holder := acquire(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, path); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	holder.Unlock()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	l, err := Acquire(ctx2, path)
	if err != nil {
		t.Fatalf("lock not available after the holder released and the other waiter gave up: %v", err)
	}
	l.Unlock()
}

// A waiter blocks in the kernel and proceeds as soon as the holder
// releases: no polling sleep. The median over several hand-overs must be
// far below any polling interval worth the name.
func TestPromptHandOver(t *testing.T) {
	path := lockPath(t)
	var lat []time.Duration
	for range 15 {
		holder := acquire(t, path)
		got := make(chan time.Time, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if l, err := Acquire(ctx, path); err == nil {
				got <- time.Now()
				l.Unlock()
			} else {
				got <- time.Time{}
			}
		}()
		// Without /proc/locks this falls back to a sleep, which makes the
		// measurement no less valid: the waiter is blocked either way.
		waitBlocked(t, heldIno(t, holder))
		released := time.Now()
		holder.Unlock()
		at := <-got
		if at.IsZero() {
			t.Fatal("waiter failed to acquire")
		}
		lat = append(lat, at.Sub(released))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	med := lat[len(lat)/2]
	t.Logf("hand-over latency: median %v, max %v", med, lat[len(lat)-1])
	if med > 20*time.Millisecond {
		t.Fatalf("median hand-over %v: the waiter is polling", med)
	}
}

// Something other than a regular file planted at the lock path is refused
// with ErrNotRegular, without blocking and without creating anything where
// a symbolic link points (dangling or not).
func TestPlantedLockPathRefused(t *testing.T) {
	plants := map[string]func(t *testing.T, at, target string){
		"dangling symlink": func(t *testing.T, at, target string) { mustOK(t, os.Symlink(target, at)) },
		"symlink to a file": func(t *testing.T, at, target string) {
			mustOK(t, os.WriteFile(target, []byte("x"), 0o600))
			mustOK(t, os.Symlink(target, at))
		},
		"fifo":      func(t *testing.T, at, _ string) { mustOK(t, syscall.Mkfifo(at, 0o600)) },
		"directory": func(t *testing.T, at, _ string) { mustOK(t, os.Mkdir(at, 0o700)) },
	}
	for name, plant := range plants {
		t.Run(name, func(t *testing.T) {
			path := lockPath(t)
			target := filepath.Join(t.TempDir(), "target")
			plant(t, path, target)
			before, _ := os.ReadFile(target)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			l, err := Acquire(ctx, path)
			if err == nil {
				l.Unlock()
				t.Fatal("Acquire took a lock on a planted path")
			}
			var fe *FileError
			if !errors.Is(err, ErrNotRegular) || !errors.As(err, &fe) || fe.Path != path {
				t.Fatalf("Acquire: %v; want a *FileError (ErrNotRegular) naming %s", err, path)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("the error %q does not name %s", err, path)
			}
			after, _ := os.ReadFile(target)
			if name == "dangling symlink" {
				if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("created the link's target: %v", err)
				}
			} else if string(after) != string(before) {
				t.Fatal("the link's target changed")
			}
		})
	}
}

// The open itself never follows a symbolic link, so a link planted after
// Check (a race) is refused too, and nothing is created where it points.
func TestOpenFlagsNeverFollow(t *testing.T) {
	path := lockPath(t)
	target := filepath.Join(t.TempDir(), "target")
	mustOK(t, os.Symlink(target, path))
	fl := flock.New(path, flock.SetFlag(openFlags), flock.SetPermissions(0o600))
	if err := lockCtx(context.Background(), fl); !errors.Is(err, syscall.ELOOP) {
		fl.Close()
		t.Fatalf("locking through a symlink: %v; want ELOOP", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("created the link's target: %v", err)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
