// Package lock takes the store's exclusive advisory lock on a stable side
// file (<store>.lock) that is never deleted. After acquiring, it checks
// that the locked file is still the one at the path (device and inode) and
// starts over if it was deleted or replaced. A waiter blocks in the kernel
// (no polling), so it proceeds as soon as the holder releases or dies.
//
// The re-check keeps exclusion when the lock file is deleted or replaced by
// a process that holds the lock at the time (as tools that delete their
// lock file on release do): a waiter left holding the old file notices and
// starts over. A lock on a file alone cannot survive a process that deletes
// the file without holding it (a newcomer then locks a fresh file while the
// holder still writes), so, holding the file lock, a writer also locks the
// directory that contains it. A non-empty directory cannot be deleted or
// replaced by a file, so that second lock always excludes: two writers can
// never both hold it, whatever happens to the lock file. Locks are always
// taken in the same order (file, then directory), so they cannot deadlock.
//
// The lock path is never followed through a symbolic link and must hold a
// regular file: a link, FIFO, device or directory planted there is refused
// with an error wrapping ErrNotRegular, and nothing is created where a
// link points.
package lock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/gofrs/flock"
	"github.com/hush-secrets/hush/internal/atomicfile"
)

// ErrTimeout is returned when the context ends before the lock is held.
var ErrTimeout = errors.New("timed out waiting for the lock")

// ErrNotRegular is returned when something other than a regular file (a
// symbolic link, a FIFO, a device, a directory, a socket) is at the lock
// path. The error is a *FileError naming the path and what is there.
var ErrNotRegular = errors.New("not a regular file")

// FileError reports a lock path that holds something other than a regular
// file. It unwraps to ErrNotRegular.
type FileError struct {
	Path string
	Mode fs.FileMode // the type bits of what is there
}

func (e *FileError) Error() string {
	return fmt.Sprintf("lock file %s is %s, not a regular file; hush never follows or replaces it", e.Path, atomicfile.Describe(e.Mode))
}

func (e *FileError) Unwrap() error { return ErrNotRegular }

// openFlags open the lock file without following a symbolic link (open
// fails with ELOOP) and without blocking on a FIFO or device.
const openFlags = os.O_CREATE | os.O_RDWR | syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// Lock is a held lock. Release it with Unlock.
type Lock struct {
	fl  *flock.Flock // <store>.lock
	dir *flock.Flock // the directory holding it
}

// Acquire blocks until it holds an exclusive lock on path, creating the
// file 0600 if needed, or until ctx ends (ErrTimeout wrapping ctx.Err()).
// It returns a *FileError (ErrNotRegular) if something other than a
// regular file is at path, without opening or creating anything through it.
//
// The lock is always tried once, even when ctx has already ended: a
// timeout of 1 ns takes a free lock and fails at once on a held one.
func Acquire(ctx context.Context, path string) (*Lock, error) {
	for first := true; ; first = false {
		if err := ctx.Err(); err != nil && !first {
			return nil, fmt.Errorf("%w: %w", ErrTimeout, err)
		}
		// Refuse an odd file before opening it: opening a device can have
		// effects of its own.
		if err := Check(path); err != nil {
			return nil, err
		}
		fl := flock.New(path, flock.SetFlag(openFlags), flock.SetPermissions(0o600))
		if err := lockCtx(ctx, fl); err != nil {
			if errors.Is(err, syscall.ELOOP) { // a link planted since Check
				return nil, &FileError{Path: path, Mode: fs.ModeSymlink}
			}
			return nil, err
		}
		same, err := stillAtPath(fl, path)
		if err != nil {
			fl.Close()
			var fe *FileError
			if errors.As(err, &fe) {
				return nil, err
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if same {
			dir := flock.New(filepath.Dir(path), flock.SetFlag(os.O_RDONLY))
			if err := lockCtx(ctx, dir); err != nil {
				fl.Close()
				return nil, err
			}
			return &Lock{fl: fl, dir: dir}, nil
		}
		// The file we locked was deleted or replaced: our lock excludes
		// nobody. Drop it and lock the file now at the path.
		fl.Close()
	}
}

// lockCtx takes fl's lock, blocking in the kernel. flock(2) cannot be
// interrupted, so the blocking call runs in a goroutine; if ctx ends first,
// the goroutine releases the lock as soon as it gets it.
func lockCtx(ctx context.Context, fl *flock.Flock) error {
	if ok, err := fl.TryLock(); err != nil {
		return fmt.Errorf("lock %s: %w", fl.Path(), err)
	} else if ok {
		return nil
	}
	done := make(chan error) // unbuffered: a result is either taken or abandoned
	abandoned := make(chan struct{})
	go func() {
		err := fl.Lock()
		select {
		case done <- err:
		case <-abandoned:
			fl.Close()
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("lock %s: %w", fl.Path(), err)
		}
		return nil
	case <-ctx.Done():
		close(abandoned)
		// The goroutine may be offering its result at this moment; take it
		// so the lock is released either here or there, never leaked.
		select {
		case err := <-done:
			if err == nil {
				fl.Close()
			}
		default:
		}
		return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
}

// Check returns a *FileError (ErrNotRegular) if something other than a
// regular file is at path, and nil if nothing is there (Acquire will
// create it) or a regular file is. It never follows a symbolic link.
func Check(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return &FileError{Path: path, Mode: fi.Mode().Type()}
	}
	return nil
}

// stillAtPath reports whether the locked file is the regular file at path
// now. It returns a *FileError if the locked file is not a regular file.
func stillAtPath(fl *flock.Flock, path string) (bool, error) {
	held, err := fl.Stat() // the locked descriptor's file while held
	if err != nil {
		return false, err
	}
	if !held.Mode().IsRegular() {
		return false, &FileError{Path: path, Mode: held.Mode().Type()}
	}
	cur, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sameFile(held, cur), nil
}

func sameFile(a, b os.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	if !ok1 || !ok2 {
		return os.SameFile(a, b)
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// Unlock releases the lock. The lock file stays in place.
func (l *Lock) Unlock() error {
	derr := l.dir.Close()
	if err := l.fl.Close(); err != nil {
		return err
	}
	return derr
}
