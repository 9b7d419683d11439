package atomicfile_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/internal/atomicfile/atomicfiletest"
)

var (
	oldContent = []byte("old content\n")
	newContent = []byte("new content, longer than the old one\n")
)

func setup(t *testing.T) (dir, target string) {
	t.Helper()
	dir = t.TempDir()
	target = filepath.Join(dir, "store.age")
	if err := os.WriteFile(target, oldContent, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, target
}

// strays returns the temp files left in dir for target.
func strays(t *testing.T, dir, target string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if atomicfile.IsTemp(target, de.Name()) {
			out = append(out, de.Name())
		}
	}
	return out
}

func mustContain(t *testing.T, target string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("target = %q, want %q", got, want)
	}
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// The new file replaces the target (a new inode, not a rewrite in place)
// with exactly the mode asked for: a permissive umask does not loosen it,
// a restrictive one narrows it as it would os.WriteFile's, and the temp
// file has the mode from its creation.
func TestPermissions(t *testing.T) {
	for _, c := range []struct {
		umask      int
		perm, want fs.FileMode
	}{
		{0, 0o600, 0o600},
		{0o022, 0o600, 0o600},
		{0o022, 0o644, 0o644},
		{0o077, 0o644, 0o600},
	} {
		old := syscall.Umask(c.umask)
		dir, target := setup(t)
		before, _ := os.Stat(target)
		var tempMode fs.FileMode
		p, err := atomicfile.NewPendingFile(target, c.perm)
		if err != nil {
			t.Fatal(err)
		}
		tempMode = mode(t, p.Name())
		if _, err := p.Write(newContent); err != nil {
			t.Fatal(err)
		}
		err = p.CloseAtomicallyReplace()
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, target, newContent)
		if got := mode(t, target); got != c.want || tempMode != c.want {
			t.Errorf("umask %04o perm %04o: target %04o, temp %04o; want %04o", c.umask, c.perm, got, tempMode, c.want)
		}
		if after, _ := os.Stat(target); os.SameFile(before, after) {
			t.Fatal("target rewritten in place; it must be replaced by a new inode")
		}
		if s := strays(t, dir, target); len(s) != 0 {
			t.Fatalf("temp files left: %v", s)
		}
	}
}

// Each step made to fail in turn through the seam: the error names the
// step, no step runs after the failure and none twice (a failed fsync is
// not retried), no temp file is left nor open, and for every step before the
// rename the target is byte-identical. A failed directory sync happens
// after the rename: the new content is in place and the error says it may
// not be durable.
func TestEachStepFails(t *testing.T) {
	injected := errors.New("injected fault")
	for i, failing := range atomicfile.Steps {
		t.Run(string(failing), func(t *testing.T) {
			dir, target := setup(t)
			fds := openFDs(t)
			var seen []atomicfile.Step
			atomicfiletest.Inject(t, func(_ string, s atomicfile.Step) error {
				seen = append(seen, s)
				if s == failing {
					return injected
				}
				return nil
			})
			err := atomicfile.WriteFile(target, newContent, 0o600)
			var ae *atomicfile.Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if ae.Step != failing || ae.Path != target || !errors.Is(err, injected) {
				t.Fatalf("err = %v, want step %q on %s wrapping the injected error", err, failing, target)
			}
			if !strings.Contains(err.Error(), string(failing)) {
				t.Fatalf("message %q does not name the step", err)
			}
			if want := atomicfile.Steps[:i+1]; !equalSteps(seen, want) {
				t.Fatalf("steps taken %q, want %q (no step after a failure, none twice)", seen, want)
			}
			if s := strays(t, dir, target); len(s) != 0 {
				t.Fatalf("temp files left: %v", s)
			}
			if n := openFDs(t); n != fds {
				t.Fatalf("%d open files after the write, %d before: the temp file was not closed", n, fds)
			}
			if failing == atomicfile.StepDirSync {
				mustContain(t, target, newContent) // the rename happened
				if !errors.Is(err, atomicfile.ErrNotDurable) {
					t.Fatalf("dir sync error %v does not wrap ErrNotDurable", err)
				}
				return
			}
			if errors.Is(err, atomicfile.ErrNotDurable) {
				t.Fatalf("%v: only a directory sync failure is ErrNotDurable", err)
			}
			mustContain(t, target, oldContent)
		})
	}
}

// openFDs counts the process's open files, where Linux shows them.
func openFDs(t *testing.T) int {
	t.Helper()
	des, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(des)
}

func equalSteps(a, b []atomicfile.Step) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A write that fails after part of the content went out sticks: the next
// write and CloseAtomicallyReplace return it, and the partial file is
// never installed.
func TestFailedWriteIsNeverInstalled(t *testing.T) {
	dir, target := setup(t)
	writes := 0
	boom := errors.New("disk full")
	atomicfiletest.Inject(t, func(_ string, s atomicfile.Step) error {
		if s == atomicfile.StepWrite {
			if writes++; writes == 2 {
				return boom
			}
		}
		return nil
	})
	p, err := atomicfile.NewPendingFile(target, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Cleanup()
	if _, err := p.Write(newContent[:5]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write(newContent[5:]); !errors.Is(err, boom) {
		t.Fatalf("second write: %v, want the injected error", err)
	}
	if _, err := p.Write(newContent[5:]); !errors.Is(err, boom) {
		t.Fatalf("a write after a failed one: %v, want the first failure again", err)
	}
	var ae *atomicfile.Error
	if err := p.CloseAtomicallyReplace(); !errors.As(err, &ae) || ae.Step != atomicfile.StepWrite || !errors.Is(err, boom) {
		t.Fatalf("CloseAtomicallyReplace after a failed write = %v, want the write error", err)
	}
	mustContain(t, target, oldContent)
	if s := strays(t, dir, target); len(s) != 0 {
		t.Fatalf("temp files left: %v", s)
	}
}

// Cleanup removes an abandoned temp file and leaves the target alone; it
// is a no-op after a successful replace, and safe to call twice. A second
// CloseAtomicallyReplace is refused.
func TestCleanup(t *testing.T) {
	dir, target := setup(t)
	p, err := atomicfile.NewPendingFile(target, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p.Write(newContent)
	if err := p.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if err := p.Cleanup(); err != nil {
		t.Fatalf("second Cleanup: %v", err)
	}
	mustContain(t, target, oldContent)
	if s := strays(t, dir, target); len(s) != 0 {
		t.Fatalf("temp files left after Cleanup: %v", s)
	}
	if err := p.CloseAtomicallyReplace(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("CloseAtomicallyReplace after Cleanup = %v, want fs.ErrClosed", err)
	}
	mustContain(t, target, oldContent)

	p, err = atomicfile.NewPendingFile(target, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p.Write(newContent)
	if err := p.CloseAtomicallyReplace(); err != nil {
		t.Fatal(err)
	}
	// Cleanup touches nothing now, not even a file that took the temp name.
	if err := os.WriteFile(p.Name(), oldContent, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.Cleanup(); err != nil {
		t.Fatalf("Cleanup after a replace: %v", err)
	}
	if _, err := os.Stat(p.Name()); err != nil {
		t.Fatalf("Cleanup after a replace removed %s: %v", p.Name(), err)
	}
	os.Remove(p.Name())
	mustContain(t, target, newContent)
	if err := p.CloseAtomicallyReplace(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("second CloseAtomicallyReplace = %v, want fs.ErrClosed", err)
	}
	if _, err := p.Write(oldContent); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Write after the replace = %v, want fs.ErrClosed", err)
	}
	mustContain(t, target, newContent)
}

// Real failures from the file system: a missing directory fails creating
// the temp file; a non-empty directory put at the target after the last
// look at it (through the seam, just before the rename) fails the rename,
// and the temp file is removed.
func TestRealFailures(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "missing", "store.age")
		var ae *atomicfile.Error
		if err := atomicfile.WriteFile(target, newContent, 0o600); !errors.As(err, &ae) || ae.Step != atomicfile.StepCreate {
			t.Fatalf("err = %v, want a create-step error", err)
		}
	})
	t.Run("rename", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "store.age")
		atomicfiletest.Inject(t, func(target string, s atomicfile.Step) error {
			if s == atomicfile.StepRename {
				return os.MkdirAll(filepath.Join(target, "x"), 0o700)
			}
			return nil
		})
		var ae *atomicfile.Error
		if err := atomicfile.WriteFile(target, newContent, 0o600); !errors.As(err, &ae) || ae.Step != atomicfile.StepRename {
			t.Fatalf("err = %v, want a rename-step error", err)
		}
		if s := strays(t, dir, target); len(s) != 0 {
			t.Fatalf("temp files left: %v", s)
		}
	})
}

// A reader opening the target while it is replaced again and again sees
// one whole version each time, never a truncated or mixed file.
func TestReplaceIsAtomic(t *testing.T) {
	const size, rounds = 256 << 10, 40
	dir := t.TempDir()
	target := filepath.Join(dir, "big")
	versions := [][]byte{bytes.Repeat([]byte{'a'}, size), bytes.Repeat([]byte{'b'}, size)}
	if err := atomicfile.WriteFile(target, versions[0], 0o600); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var reads, bad atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	wg.Go(func() {
		for !stop.Load() {
			got, err := os.ReadFile(target)
			reads.Add(1)
			if err != nil || !(bytes.Equal(got, versions[0]) || bytes.Equal(got, versions[1])) {
				if bad.Add(1) == 1 {
					first.Store(len(got))
				}
			}
		}
	})
	for i := range rounds {
		if err := atomicfile.WriteFile(target, versions[(i+1)%2], 0o600); err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d of %d reads saw a partial file (first: %v bytes of %d)", bad.Load(), reads.Load(), first.Load(), size)
	}
	t.Logf("%d reads over %d replaces, all whole", reads.Load(), rounds)
}

// NoSync skips both fsyncs, and only them: the seam sees every other step.
// Without it each write takes one file fsync and one directory fsync.
func TestNoSyncSkipsFsync(t *testing.T) {
	dir, target := setup(t)
	count := map[atomicfile.Step]int{}
	atomicfiletest.Inject(t, func(_ string, s atomicfile.Step) error {
		count[s]++
		return nil
	})
	fresh := filepath.Join(dir, "new")
	for _, c := range []struct {
		opts []atomicfile.Option
		want int
	}{{nil, 1}, {[]atomicfile.Option{atomicfile.NoSync()}, 0}} {
		clear(count)
		if err := atomicfile.WriteFile(target, newContent, 0o600, c.opts...); err != nil {
			t.Fatal(err)
		}
		os.Remove(fresh)
		if err := atomicfile.WriteNewFile(fresh, newContent, 0o600, c.opts...); err != nil {
			t.Fatal(err)
		}
		if count[atomicfile.StepSync] != 2*c.want || count[atomicfile.StepDirSync] != 2*c.want {
			t.Errorf("%d options: %d file and %d directory fsyncs over two writes, want %d each",
				len(c.opts), count[atomicfile.StepSync], count[atomicfile.StepDirSync], 2*c.want)
		}
		for _, s := range []atomicfile.Step{atomicfile.StepCreate, atomicfile.StepWrite, atomicfile.StepClose} {
			if count[s] != 2 {
				t.Errorf("%d options: step %q taken %d times over two writes, want 2", len(c.opts), s, count[s])
			}
		}
		mustContain(t, target, newContent)
		mustContain(t, fresh, newContent)
	}
}

// WriteNewFile creates a private file and never replaces one: an existing
// file is refused with fs.ErrExist and left byte-identical.
func TestWriteNewFile(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir, existing := setup(t)
	err := atomicfile.WriteNewFile(existing, newContent, 0o600)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("over an existing file: %v, want fs.ErrExist", err)
	}
	mustContain(t, existing, oldContent)
	target := filepath.Join(dir, "identity.txt")
	if err := atomicfile.WriteNewFile(target, newContent, 0o600); err != nil {
		t.Fatal(err)
	}
	mustContain(t, target, newContent)
	if m := mode(t, target); m != 0o600 {
		t.Fatalf("mode %04o, want 0600", m)
	}
}

// Each step of WriteNewFile made to fail: an *Error for the step, nothing
// left at the target (a failed directory sync included) and no file open.
func TestWriteNewFileEachStepFails(t *testing.T) {
	injected := errors.New("injected fault")
	for _, failing := range atomicfile.Steps {
		if failing == atomicfile.StepRename {
			continue
		}
		t.Run(string(failing), func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "identity.txt")
			fds := openFDs(t)
			atomicfiletest.Inject(t, func(_ string, s atomicfile.Step) error {
				if s == failing {
					return injected
				}
				return nil
			})
			err := atomicfile.WriteNewFile(target, newContent, 0o600)
			var ae *atomicfile.Error
			if !errors.As(err, &ae) || ae.Step != failing || !errors.Is(err, injected) {
				t.Fatalf("err = %v, want step %q wrapping the injected error", err, failing)
			}
			if des, _ := os.ReadDir(dir); len(des) != 0 {
				t.Fatalf("left behind after a failed %s: %v", failing, des)
			}
			if n := openFDs(t); n != fds {
				t.Fatalf("%d open files after a failed %s, %d before", n, failing, fds)
			}
		})
	}
}

func TestTempNames(t *testing.T) {
	target := "/some/dir/store.age"
	if p := atomicfile.TempPrefix(target); p != ".store.age.tmp-" {
		t.Fatalf("TempPrefix = %q", p)
	}
	if !atomicfile.IsTemp(target, ".store.age.tmp-0123abcd") || atomicfile.IsTemp(target, "store.age") || atomicfile.IsTemp(target, "store.age.lock") {
		t.Fatal("IsTemp misclassifies")
	}
	dir, target := setup(t)
	p, err := atomicfile.NewPendingFile(target, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Cleanup()
	if filepath.Dir(p.Name()) != dir || !atomicfile.IsTemp(target, filepath.Base(p.Name())) {
		t.Fatalf("temp file %s is not a recognisable temp beside %s", p.Name(), target)
	}
}

func TestDirSyncMessage(t *testing.T) {
	_, target := setup(t)
	atomicfiletest.Inject(t, func(_ string, s atomicfile.Step) error {
		if s == atomicfile.StepDirSync {
			return errors.New("injected")
		}
		return nil
	})
	err := atomicfile.WriteFile(target, newContent, 0o600)
	want := "sync directory " + target + ": injected; " + atomicfile.ErrNotDurable.Error()
	if err == nil || err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
}

// The seam is gone when the test that installed it ends.
func TestInjectEndsWithTheTest(t *testing.T) {
	t.Run("armed", func(t *testing.T) {
		atomicfiletest.Inject(t, func(string, atomicfile.Step) error { return errors.New("injected") })
	})
	_, target := setup(t)
	if err := atomicfile.WriteFile(target, newContent, 0o600); err != nil {
		t.Fatalf("a write after the injecting test ended: %v", err)
	}
}
