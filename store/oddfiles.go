package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/hush-secrets/hush/internal/atomicfile"
)

// ErrNotRegular means that what is at the store path, or at a path hush
// was to write, is not a regular file (a named pipe, a device, a
// directory, a socket) or is a symbolic link that does not lead to one
// (dangling, or planted by another user in a shared directory). Nothing
// is read from it, written through it or put in its place: [Open],
// [Create] and every read and write of a [File] return a *StoreError
// wrapping it. A symbolic link to a regular file is followed: a write
// replaces the link's target in the target's directory and leaves the
// link in place. It is the same error value as atomicfile's, so a test
// with errors.Is also matches a refused `get -o FILE`.
var ErrNotRegular = atomicfile.ErrNotRegular

func notRegular(m fs.FileMode) error {
	return fmt.Errorf("%w (%s)", ErrNotRegular, atomicfile.Describe(m))
}

// checkTarget returns a *StoreError wrapping ErrNotRegular if a write to
// path would be refused for what is there, so that Create refuses before
// it makes a directory or a lock file.
func checkTarget(path string) error {
	if _, err := atomicfile.Resolve(path); err != nil {
		var ae *atomicfile.Error
		if errors.As(err, &ae) {
			err = ae.Err // the *StoreError names the path already
		}
		return &StoreError{Path: path, Err: err}
	}
	return nil
}

// writePath returns the file a write to the store at path replaces: the
// target of a symbolic link, or path itself (when it is a regular file,
// is missing, or will be refused).
func writePath(path string) string {
	if real, err := atomicfile.Resolve(path); err == nil {
		return real
	}
	return path
}

// openRegular opens the store at path for reading. Anything but a regular
// file is refused with an error wrapping ErrNotRegular, before it is
// opened when it can be (a device is not opened), and without waiting: a
// named pipe put in its place meanwhile is opened non-blocking and
// refused, never read. A missing file is an error wrapping fs.ErrNotExist.
func openRegular(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi.Mode())
	}
	fh, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if fi, err = fh.Stat(); err != nil || !fi.Mode().IsRegular() {
		fh.Close()
		if err == nil {
			err = notRegular(fi.Mode())
		}
		return nil, err
	}
	return fh, nil
}
