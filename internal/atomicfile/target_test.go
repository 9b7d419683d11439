package atomicfile_test

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/internal/atomicfile/atomicfiletest"
)

// typeOf returns what is at path, without following a link.
func typeOf(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Type()
}

// mustRefuse writes to target through WriteFile and through a
// PendingFile and checks both are refused with ErrNotRegular, in time (a
// named pipe is never opened, so nothing waits for a reader), leaving
// what is at target as it was and no temp file in dir.
func mustRefuse(t *testing.T, dir, target string) {
	t.Helper()
	before := typeOf(t, target)
	done := make(chan error, 2)
	go func() {
		done <- atomicfile.WriteFile(target, newContent, 0o600)
		p, err := atomicfile.NewPendingFile(target, 0o600)
		if err == nil {
			p.Cleanup() // a broken check must leave no temp file, even in /dev
		}
		done <- err
	}()
	for range 2 {
		select {
		case err := <-done:
			var ae *atomicfile.Error
			if !errors.Is(err, atomicfile.ErrNotRegular) || !errors.As(err, &ae) || ae.Path != target {
				t.Fatalf("write to %s: got %v, want an *Error naming it and wrapping ErrNotRegular", target, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("write to %s: still blocked after 10s", target)
		}
	}
	if after := typeOf(t, target); after != before {
		t.Fatalf("%s was %v, is now %v", target, before, after)
	}
	if s := strays(t, dir, target); len(s) != 0 {
		t.Fatalf("temp files left: %v", s)
	}
}

// A named pipe, a directory, a socket, a dangling link, a link to a named
// pipe and a link loop are refused and left as they were.
func TestRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	links := map[string]string{
		"dangling": "nowhere",
		"tofifo":   "fifo",
		"chain":    "tofifo",
		"loop1":    "loop2",
		"loop2":    "loop1",
		"todir":    "dir",
	}
	for name, dest := range links {
		if err := os.Symlink(dest, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"fifo", "dir", "sock", "dangling", "tofifo", "chain", "loop1", "todir"} {
		t.Run(name, func(t *testing.T) {
			mustRefuse(t, dir, filepath.Join(dir, name))
		})
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the dangling link's target was created: %v", err)
	}
}

// /dev/null itself is refused and stays a character device. Should the
// check ever break, the rename is failed through the seam, so the test
// reports the break instead of replacing the machine's /dev/null.
func TestRefusesDevNull(t *testing.T) {
	atomicfiletest.Inject(t, func(target string, s atomicfile.Step) error {
		if s == atomicfile.StepRename {
			return errors.New("test: the rename over /dev/null was about to happen")
		}
		return nil
	})
	mustRefuse(t, "/dev", "/dev/null")
	if typeOf(t, "/dev/null")&fs.ModeCharDevice == 0 {
		t.Fatal("/dev/null is no longer a character device")
	}
}

// /dev/stdout and /proc/self/fd/N name an open file: even when it is a
// regular file (stdout appended to a log), it is not replaced.
func TestRefusesOpenFileHandle(t *testing.T) {
	dir, target := setup(t)
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	handle := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	if _, err := os.Lstat(handle); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	err = atomicfile.WriteFile(handle, newContent, 0o600)
	if !errors.Is(err, atomicfile.ErrNotRegular) {
		t.Fatalf("write to %s: got %v, want ErrNotRegular", handle, err)
	}
	mustContain(t, target, oldContent)
	if s := strays(t, dir, target); len(s) != 0 {
		t.Fatalf("temp files left: %v", s)
	}
}

// A link to a regular file, directly, through a chain, or relative
// through a linked directory and "..": the link's target is replaced in
// its own directory (a new inode, mode as asked), the links stay links,
// and no temp file is left beside either.
func TestFollowsLinkToRegular(t *testing.T) {
	for _, c := range []struct {
		name  string
		links [][2]string // name, destination, relative to the test's directory
	}{
		{"direct", [][2]string{{"link", "real/store.age"}}},
		{"absolute", nil}, // filled in below
		{"chain", [][2]string{{"link", "mid"}, {"mid", "real/store.age"}}},
		{"dotdot", [][2]string{{"sub", "real/deeper"}, {"link", "sub/../store.age"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			real := filepath.Join(dir, "real")
			if err := os.MkdirAll(filepath.Join(real, "deeper"), 0o700); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(real, "store.age")
			if err := os.WriteFile(target, oldContent, 0o644); err != nil {
				t.Fatal(err)
			}
			links := c.links
			if c.name == "absolute" {
				links = [][2]string{{"link", target}}
			}
			for _, l := range links {
				if err := os.Symlink(l[1], filepath.Join(dir, l[0])); err != nil {
					t.Fatal(err)
				}
			}
			link := filepath.Join(dir, "link")
			if got, err := atomicfile.Resolve(link); err != nil || got != target {
				t.Fatalf("Resolve(%s) = %q, %v; want %q", link, got, err, target)
			}
			before, _ := os.Stat(target)
			if err := atomicfile.WriteFile(link, newContent, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, l := range links {
				if typeOf(t, filepath.Join(dir, l[0])) != fs.ModeSymlink {
					t.Fatalf("%s is no longer a symbolic link", l[0])
				}
			}
			mustContain(t, target, newContent)
			mustContain(t, link, newContent)
			if after, _ := os.Stat(target); os.SameFile(before, after) || after.Mode().Perm() != 0o600 {
				t.Fatalf("target rewritten in place or mode %v; want a new inode, mode 0600", after.Mode())
			}
			for _, d := range []string{dir, real} {
				if s := strays(t, d, target); len(s) != 0 {
					t.Fatalf("temp files left in %s: %v", d, s)
				}
			}
		})
	}
}

// What is at the target is looked at again before the rename: a named
// pipe or a link that appeared while the temp file was written is not
// replaced.
func TestRecheckBeforeRename(t *testing.T) {
	for _, swap := range []struct {
		name string
		do   func(target, other string) error
	}{
		{"fifo", func(target, _ string) error {
			os.Remove(target)
			return syscall.Mkfifo(target, 0o600)
		}},
		{"link", func(target, other string) error {
			os.Remove(target)
			return os.Symlink(other, target)
		}},
	} {
		t.Run(swap.name, func(t *testing.T) {
			dir, target := setup(t)
			other := filepath.Join(dir, "other")
			if err := os.WriteFile(other, oldContent, 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := atomicfile.NewPendingFile(target, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Cleanup()
			if _, err := p.Write(newContent); err != nil {
				t.Fatal(err)
			}
			if err := swap.do(target, other); err != nil {
				t.Fatal(err)
			}
			before := typeOf(t, target)
			var ae *atomicfile.Error
			if err := p.CloseAtomicallyReplace(); !errors.As(err, &ae) || ae.Step != atomicfile.StepTarget {
				t.Fatalf("CloseAtomicallyReplace = %v; want an *Error for StepTarget", err)
			}
			if typeOf(t, target) != before {
				t.Fatal("what appeared at the target was replaced")
			}
			mustContain(t, other, oldContent)
			if s := strays(t, dir, target); len(s) != 0 {
				t.Fatalf("temp files left: %v", s)
			}
		})
	}
}

// A link another user owns in a sticky world-writable directory (a link
// planted in /tmp) is not followed, as the kernel's protected_symlinks
// would not: the file it points at keeps its content. Needs root to make
// a link owned by someone else.
func TestRefusesPlantedLinkInStickyDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a link owned by another user")
	}
	dir := t.TempDir()
	shared := filepath.Join(dir, "tmp")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, oldContent, 0o600); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(shared, "out")
	if err := os.Symlink(victim, planted); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(planted, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, shared, planted)
	mustContain(t, victim, oldContent)

	// The same link owned by the caller is followed.
	if err := os.Lchown(planted, os.Geteuid(), os.Getegid()); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(planted, newContent, 0o600); err != nil {
		t.Fatal(err)
	}
	mustContain(t, victim, newContent)
}

// WriteNewFile never follows a link: a dangling one is refused (fs.ErrExist)
// and nothing is created where it points, nor is a named pipe opened.
func TestWriteNewFileRefusesLinksAndPipes(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "identity.txt")
	if err := os.Symlink("planted", link); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteNewFile(link, newContent, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteNewFile through a dangling link = %v, want fs.ErrExist", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "planted")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a file was created where the link points: %v", err)
	}
	if typeOf(t, link) != fs.ModeSymlink {
		t.Fatal("the link was replaced")
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- atomicfile.WriteNewFile(fifo, newContent, 0o600) }()
	select {
	case err := <-done:
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("WriteNewFile on a named pipe = %v, want fs.ErrExist", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WriteNewFile on a named pipe still blocked after 10s")
	}
}
