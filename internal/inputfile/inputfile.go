// Package inputfile reads the files hush takes as input (identities,
// imports, recipients files, stores handed over by git) with a size limit,
// and refuses anything that is not a regular file before reading from it:
// nothing waits on a named pipe and nothing fills memory from a device.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/store"
)

// ErrNotRegular means an input is not a regular file (a named pipe, a
// device, a directory, a socket). It is refused unread. The error is a
// *NotRegularError.
var ErrNotRegular = errors.New("not a regular file")

// NotRegularError reports an input refused because it is not a regular
// file. It unwraps to ErrNotRegular.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, atomicfile.Describe(e.Mode))
}

func (e *NotRegularError) Unwrap() error { return ErrNotRegular }

// Open opens the regular file at path (a symbolic link to one is
// followed) for reading and returns it with its information. Anything
// else is refused with a *NotRegularError: before it is opened when it
// can be (a device is not opened), and without waiting when it is put in
// place meanwhile (a named pipe is opened non-blocking and refused). A
// missing or unreadable file is the *fs.PathError of os.Open.
func Open(path string) (*os.File, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Op = "open" // as os.Open says it
		}
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	if fi, err = f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = &NotRegularError{Path: path, Mode: fi.Mode()}
		}
		return nil, nil, err
	}
	return f, fi, nil
}

// Read reads r to the end. More than limit bytes is an error wrapping
// store.ErrLimit that names what, and what was read is cleared: the input
// is refused, never cut short.
func Read(r io.Reader, what string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	return checkRead(b, err, what, limit)
}

// checkRead is Read's verdict on b, read with err.
func checkRead(b []byte, err error, what string, limit int64) ([]byte, error) {
	if err != nil {
		clear(b)
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if int64(len(b)) > limit {
		clear(b)
		return nil, fmt.Errorf("%s: %w: more than %d bytes", what, store.ErrLimit, limit)
	}
	return b, nil
}

// ReadFile reads the regular file at path, of at most limit bytes: Open
// and Read.
// The buffer is sized from the file's size, not grown by copies.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, fi, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if n := fi.Size(); n > 0 && n <= limit {
		b := make([]byte, n+1) // +1: a file grown since is read on
		m, err := io.ReadFull(f, b)
		switch {
		case err == io.ErrUnexpectedEOF || err == io.EOF:
			return b[:m], nil
		case err == nil:
			rest, err := io.ReadAll(io.LimitReader(f, limit+1-int64(m)))
			return checkRead(append(b, rest...), err, path, limit)
		}
		return checkRead(b[:m], err, path, limit)
	}
	return Read(f, path, limit)
}

// Map returns the contents of the regular file at path, of at most limit
// bytes, as ReadFile does, and release, which the caller calls once it is
// done with them (and not before). A file that is not empty is mapped
// into memory read-only instead of copied: no buffer is filled, and none
// is touched page by page. Such data must never be written (a write kills
// the process with a fault); release unmaps it. Data read instead, when
// the file is empty (or not one the system maps), is a buffer that
// release clears.
//
// Mapped data are the file's: bytes another process writes to the file
// meanwhile may show in them, and reading past an end it cuts the file
// short to is a memory fault: a caller that reads them with
// debug.SetPanicOnFault(true) gets a panic it can recover from instead of
// the end of the process.
//
// Its errors are those of ReadFile.
func Map(path string, limit int64) (data []byte, release func(), err error) {
	f, fi, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	n := fi.Size()
	if n > limit {
		return nil, nil, fmt.Errorf("%s: %w: more than %d bytes", path, store.ErrLimit, limit)
	}
	if n > 0 && int64(int(n)) == n {
		// MAP_POPULATE: the file's pages are mapped in the call, not
		// one fault at a time as they are read.
		b, err := syscall.Mmap(int(f.Fd()), 0, int(n), syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_POPULATE)
		if err == nil {
			return b, func() { syscall.Munmap(b) }, nil
		}
	}
	b, err := Read(f, path, limit)
	if err != nil {
		return nil, nil, err
	}
	return b, func() { clear(b) }, nil
}
