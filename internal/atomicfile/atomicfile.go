// Package atomicfile writes files the way google/renameio does, for every
// file hush writes. A replace goes through a [PendingFile]: a temp file
// created (O_EXCL) in the target's directory, written, fsynced, closed and
// renamed over the target, after which the directory is fsynced. A reader
// opening the target sees the whole old file or the whole new one, never
// a mix, and after a crash the target holds one or the other.
//
//	p, err := atomicfile.NewPendingFile(path)
//	if err != nil {
//		return err
//	}
//	defer p.Cleanup()
//	if _, err := p.Write(data); err != nil {
//		return err
//	}
//	return p.CloseAtomicallyReplace()
//
// [WriteFile] does the same for data in hand, and [WriteNewFile] creates a
// file that must not exist yet, for files hush never replaces.
//
// Only regular files are replaced. A symbolic link is followed to the
// regular file it leads to, which is replaced in its own directory while
// the link stays in place, as a store kept in a synced folder or by a
// dotfile manager needs; anything else (a named pipe, a device, a
// directory, a socket, a dangling link) is refused with an error wrapping
// [ErrNotRegular] and left as it was.
//
// Every error is an [*Error] naming the step that failed. A failure before
// the rename removes the temp file and leaves the target untouched. The
// directory fsync comes after the rename: when it fails the new content is
// in place and the error wraps [ErrNotDurable]. A failed fsync is reported
// and never retried, since after one the kernel may have dropped the dirty
// pages and a second fsync could succeed with the data lost.
//
// Temp files are named [TempPrefix](target) followed by random hex, so a
// program that serialises its writers (the store holds a lock) can
// recognise and remove those a killed writer left ([IsTemp]).
//
// Tests fail any step through package atomicfiletest; that seam is not a
// parameter of anything here.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hush-secrets/hush/internal/atomicfile/internal/fault"
)

// Step names one step of a write, for errors and fault injection.
type Step string

const (
	StepCreate  Step = "create temp file"
	StepWrite   Step = "write temp file"
	StepSync    Step = "sync temp file"
	StepClose   Step = "close temp file"
	StepRename  Step = "rename temp file over"
	StepDirSync Step = "sync directory"
)

// Steps lists the steps of a replace in the order it takes them.
// [WriteNewFile] takes the same steps but the rename, on the target itself.
var Steps = []Step{StepCreate, StepWrite, StepSync, StepClose, StepRename, StepDirSync}

// Error reports the step that failed and the target being written.
type Error struct {
	Step Step
	Path string // the target, not the temp file
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("%s %s: %v", e.Step, e.Path, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// ErrNotDurable marks a write whose directory fsync failed after the file
// was in place: the new content is visible but may not survive a power
// loss.
var ErrNotDurable = errors.New("the change is visible but may not survive a power loss")

// TempPrefix starts the name of every temp file for target, so that
// strays can be recognised: ".<base>.tmp-".
func TempPrefix(target string) string { return "." + filepath.Base(target) + ".tmp-" }

// IsTemp reports whether name (a base name) is a temp file for target.
func IsTemp(target, name string) bool { return strings.HasPrefix(name, TempPrefix(target)) }

// An Option changes how a file is written.
type Option func(*config)

type config struct{ noSync, unnamed bool }

// NoSync skips both fsyncs (file and directory); the rename stays atomic,
// so readers still never see a partial file, but after a crash the target
// may hold the old content or, on some file systems, an empty file.
//
// It exists for git's merge driver alone: git writes the work-tree file
// itself, reads the driver's result at once to store it in its own object
// database, and can redo the merge after a crash; an fsync per merged file
// would cost more than it protects. Nothing else in hush may use it.
func NoSync() Option { return func(c *config) { c.noSync = true } }

// Unnamed keeps the temp file without a name until the rename (Linux's
// O_TMPFILE, linked under a temp name only to be renamed at once), for
// plaintext written outside the store (`hush get -o`): a process killed
// while writing, even by SIGKILL, leaves nothing behind, since the kernel
// frees a file without a name when it is closed. Only the moment between
// the link and the rename can leave a complete temp file (mode perm, named
// as any temp file). Where the file system cannot make an unnamed file it
// is created with a name, as without this option.
func Unnamed() Option { return func(c *config) { c.unnamed = true } }

// PendingFile is a temp file that replaces its target when closed with
// [PendingFile.CloseAtomicallyReplace]. Unlike renameio's it does not
// expose the *os.File: every write goes through [PendingFile.Write], so a
// failed write is remembered and never installed.
type PendingFile struct {
	f      *os.File
	tmp    string // its name; "" while an unnamed file has none
	target string
	dest   string // the file the rename replaces: target, or its link's target
	cfg    config
	err    error // the first failed write
	closed bool  // f is closed
	done   bool  // replaced or cleaned up: nothing left to remove
}

// NewPendingFile creates a temp file beside target, with mode perm less
// the umask (hush passes 0600 for anything secret). The caller writes to
// it, calls CloseAtomicallyReplace, and defers Cleanup in case it does not
// get there. On error nothing was created.
//
// Only a regular file is ever replaced. When target is a symbolic link,
// the temp file goes beside the regular file the link leads to, which the
// rename replaces, and the link stays in place ([Resolve]). Anything else
// at target (a named pipe, a device, a directory, a socket, a dangling
// link) gives an *Error wrapping ErrNotRegular, here and again right
// before the rename, and is left as it was.
func NewPendingFile(target string, perm fs.FileMode, opts ...Option) (*PendingFile, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	dest, err := Resolve(target)
	if err != nil {
		return nil, err
	}
	if err := check(target, StepCreate); err != nil {
		return nil, err
	}
	var suffix [8]byte
	rand.Read(suffix[:])
	tmp := filepath.Join(filepath.Dir(dest), TempPrefix(dest)+hex.EncodeToString(suffix[:]))
	if cfg.unnamed {
		if f, ok := openUnnamed(filepath.Dir(dest), perm); ok {
			return &PendingFile{f: f, target: target, dest: dest, cfg: cfg}, nil
		}
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, &Error{Step: StepCreate, Path: target, Err: err}
	}
	return &PendingFile{f: f, tmp: tmp, target: target, dest: dest, cfg: cfg}, nil
}

// Name returns the temp file's path; "" for an unnamed file (see
// [Unnamed]) before the rename.
func (p *PendingFile) Name() string { return p.tmp }

// Write writes b to the temp file. A failure is an *Error for StepWrite;
// it sticks: later writes and CloseAtomicallyReplace return it, so a file
// missing part of its content is never installed.
func (p *PendingFile) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if p.closed {
		return 0, &Error{Step: StepWrite, Path: p.target, Err: fs.ErrClosed}
	}
	if err := check(p.target, StepWrite); err != nil {
		p.err = err
		return 0, err
	}
	n, err := p.f.Write(b)
	if err != nil {
		p.err = &Error{Step: StepWrite, Path: p.target, Err: err}
		return n, p.err
	}
	return n, nil
}

// Cleanup closes and removes the temp file unless it has replaced the
// target. It is safe to defer and to call more than once; after a
// successful CloseAtomicallyReplace it does nothing and returns nil.
func (p *PendingFile) Cleanup() error {
	if p.done {
		return nil
	}
	p.done = true
	if !p.closed {
		p.closed = true
		p.f.Close()
	}
	if p.tmp == "" { // unnamed: closing it freed it
		return nil
	}
	if err := os.Remove(p.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// CloseAtomicallyReplace fsyncs and closes the temp file, renames it over
// the target and fsyncs the directory. On a failure before the rename it
// removes the temp file and the target is untouched; a failed directory
// fsync leaves the new content in place and wraps ErrNotDurable. Every
// error is an *Error; a second call returns one wrapping fs.ErrClosed.
func (p *PendingFile) CloseAtomicallyReplace() (err error) {
	if p.done {
		return &Error{Step: StepClose, Path: p.target, Err: fs.ErrClosed}
	}
	defer func() {
		if err != nil {
			p.Cleanup()
		}
	}()
	if p.err != nil {
		return p.err
	}
	if !p.cfg.noSync {
		if err := step(p.target, StepSync, p.f.Sync); err != nil {
			return err
		}
	}
	if p.tmp == "" {
		return p.linkAndReplace()
	}
	if err := step(p.target, StepClose, func() error { p.closed = true; return p.f.Close() }); err != nil {
		return err
	}
	// Look again: what is at the target may have changed since the temp
	// file was created. A change after this look is not caught; the lock
	// a caller holds covers its own writers, not other programs.
	if dest, err := Resolve(p.target); err != nil {
		return err
	} else if dest != p.dest {
		return &Error{Step: StepTarget, Path: p.target, Err: errChanged}
	}
	if err := step(p.target, StepRename, func() error { return os.Rename(p.tmp, p.dest) }); err != nil {
		return err
	}
	p.done = true // the temp name is gone
	return p.syncDir()
}

// linkAndReplace is CloseAtomicallyReplace's end for an unnamed file,
// fsynced: it gives the file a temp name and renames it over the target
// at once, then closes it. The file is closed after the rename, since it
// can only be linked while open.
func (p *PendingFile) linkAndReplace() error {
	if dest, err := Resolve(p.target); err != nil {
		return err
	} else if dest != p.dest {
		return &Error{Step: StepTarget, Path: p.target, Err: errChanged}
	}
	var suffix [8]byte
	rand.Read(suffix[:])
	tmp := filepath.Join(filepath.Dir(p.dest), TempPrefix(p.dest)+hex.EncodeToString(suffix[:]))
	if err := step(p.target, StepRename, func() error {
		if err := linkUnnamed(p.f, tmp); err != nil {
			return err
		}
		p.tmp = tmp
		return os.Rename(tmp, p.dest)
	}); err != nil {
		return err
	}
	p.done = true
	if err := step(p.target, StepClose, func() error { p.closed = true; return p.f.Close() }); err != nil {
		return err
	}
	return p.syncDir()
}

// syncDir ends a replace: the directory's fsync, unless NoSync.
func (p *PendingFile) syncDir() error {
	if p.cfg.noSync {
		return nil
	}
	if err := syncDir(p.target, p.dest); err != nil {
		var ae *Error
		errors.As(err, &ae)
		ae.Err = fmt.Errorf("%w; %w", ae.Err, ErrNotDurable)
		return ae
	}
	return nil
}

// WriteFile replaces target with data through a PendingFile (perm as
// there). On error the target is untouched, unless the error wraps
// ErrNotDurable, and no temp file is left.
func WriteFile(target string, data []byte, perm fs.FileMode, opts ...Option) error {
	p, err := NewPendingFile(target, perm, opts...)
	if err != nil {
		return err
	}
	defer p.Cleanup()
	if _, err := p.Write(data); err != nil {
		return err
	}
	return p.CloseAtomicallyReplace()
}

// WriteNewFile creates target, which must not exist, holding data: it
// never replaces a file, so it is for files hush must never overwrite (an
// identity). The file is created O_EXCL with mode perm less the umask,
// fsynced and closed, and the directory fsynced. Creation is exclusive
// rather than atomic: there is no temp file and rename, because a rename
// replaces whatever got there first and a hard link, which would not, is
// refused by file systems (FAT) where a backup of an identity may go; a
// process killed mid-write can leave a partial file, which the next
// attempt refuses rather than overwrites.
//
// If anything exists at target the error wraps fs.ErrExist and it is
// untouched: a symbolic link, dangling or not, is never followed (O_EXCL
// refuses links), nor a named pipe or a device opened. On any other error, a failed directory fsync included, the file it
// created is removed, so nothing is left at target and a retry starts
// clean. Every error is an *Error.
func WriteNewFile(target string, data []byte, perm fs.FileMode, opts ...Option) (err error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if err := check(target, StepCreate); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return &Error{Step: StepCreate, Path: target, Err: err}
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(target)
		}
	}()
	if err := step(target, StepWrite, func() error { _, err := f.Write(data); return err }); err != nil {
		return err
	}
	if !cfg.noSync {
		if err := step(target, StepSync, f.Sync); err != nil {
			return err
		}
	}
	if err := step(target, StepClose, func() error { closed = true; return f.Close() }); err != nil {
		return err
	}
	if cfg.noSync {
		return nil
	}
	return syncDir(target, target)
}

// check runs the test seam for s.
func check(target string, s Step) error {
	if err := fault.Check(target, string(s)); err != nil {
		return &Error{Step: s, Path: target, Err: err}
	}
	return nil
}

// step runs the test seam for s, then op; either failure is an *Error.
func step(target string, s Step, op func() error) error {
	if err := check(target, s); err != nil {
		return err
	}
	if err := op(); err != nil {
		return &Error{Step: s, Path: target, Err: err}
	}
	return nil
}

// syncDir fsyncs the directory of dest, the file written for target,
// once it is in place.
func syncDir(target, dest string) error {
	return step(target, StepDirSync, func() error {
		d, err := os.Open(filepath.Dir(dest))
		if err != nil {
			return err
		}
		defer d.Close()
		return d.Sync()
	})
}
