// Package atomicfile replaces a file durably: temp file in the same
// directory (O_EXCL, 0600), write, fsync, close, rename over the target,
// fsync the directory. A failure at any step removes the temp file and
// leaves the target untouched; a failed fsync is reported, never retried.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Step names one step of the write path, for errors and fault injection.
type Step string

const (
	StepCreate  Step = "create temp file"
	StepWrite   Step = "write temp file"
	StepSync    Step = "sync temp file"
	StepClose   Step = "close temp file"
	StepRename  Step = "rename temp file over the store"
	StepDirSync Step = "sync directory"
)

// Steps lists every step in the order the write path takes them.
var Steps = []Step{StepCreate, StepWrite, StepSync, StepClose, StepRename, StepDirSync}

// Error reports the step that failed.
type Error struct {
	Step Step
	Path string
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("%s %s: %v", e.Step, e.Path, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Fault, when non-nil, is called before each step; a non-nil return fails
// that step with the returned error. It is a seam for tests.
type Fault func(Step) error

// TempPrefix starts the name of every temp file, so that tools and tests
// can recognise strays: ".<base>.tmp-".
func TempPrefix(target string) string { return "." + filepath.Base(target) + ".tmp-" }

// IsTemp reports whether name (a base name) is a temp file for target.
func IsTemp(target, name string) bool { return strings.HasPrefix(name, TempPrefix(target)) }

// Write replaces target with what write produces. write receives the temp
// file; it must write the whole content and return any error. perm is
// applied to the temp file at creation.
func Write(target string, perm os.FileMode, fault Fault, write func(io.Writer) error) (err error) {
	inject := func(s Step) error {
		if fault != nil {
			return fault(s)
		}
		return nil
	}
	check := func(s Step) error {
		if err := inject(s); err != nil {
			return &Error{Step: s, Path: target, Err: err}
		}
		return nil
	}
	dir := filepath.Dir(target)
	if err := check(StepCreate); err != nil {
		return err
	}
	var suffix [8]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return &Error{Step: StepCreate, Path: target, Err: err}
	}
	tmp := filepath.Join(dir, TempPrefix(target)+hex.EncodeToString(suffix[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return &Error{Step: StepCreate, Path: target, Err: err}
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	if err := check(StepWrite); err != nil {
		return err
	}
	if err := write(f); err != nil {
		return &Error{Step: StepWrite, Path: target, Err: err}
	}
	if err := check(StepSync); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return &Error{Step: StepSync, Path: target, Err: err}
	}
	if err := check(StepClose); err != nil {
		return err
	}
	closed = true
	if err := f.Close(); err != nil {
		return &Error{Step: StepClose, Path: target, Err: err}
	}
	if err := check(StepRename); err != nil {
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		return &Error{Step: StepRename, Path: target, Err: err}
	}
	// From here the new file is in place; the temp name no longer exists.
	if err := inject(StepDirSync); err != nil {
		return errDirSync(err, target)
	}
	if err := syncDir(dir); err != nil {
		return errDirSync(err, target)
	}
	return nil
}

// ErrNotDurable marks a write whose rename happened but whose directory
// sync failed: the new content is visible but may not survive power loss.
var ErrNotDurable = errors.New("the change is visible but may not survive a power loss")

func errDirSync(err error, target string) error {
	return &Error{Step: StepDirSync, Path: target, Err: fmt.Errorf("%w; %w", err, ErrNotDurable)}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// SyncDir fsyncs a directory, for callers that create files outside Write.
func SyncDir(dir string) error { return syncDir(dir) }
