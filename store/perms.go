package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/store/internal/lock"
)

// What is checked follows what each file protects. An identity file is a
// private key: any access by group or others is refused, as ssh refuses
// loose keys. The store is ciphertext meant to be shared (a store checked
// out of git is 0644 under the usual umask), so group and others may read
// it; what is refused is what lets someone else replace its secrets.

// PermissionReason says what a [PermissionError] found wrong.
type PermissionReason int

const (
	// ReasonMode: group or others can write the store, or access an
	// identity file at all. PermissionError.Mode is the file's mode.
	ReasonMode PermissionReason = iota
	// ReasonOwner: the file is owned by another user, neither the caller
	// nor root. PermissionError.UID is the owner.
	ReasonOwner
	// ReasonLinks: the store has more than one hard link, so another
	// name, perhaps in a directory someone else controls, can change it.
	// PermissionError.Links is the link count.
	ReasonLinks
	// ReasonDirectory: group or others can write PermissionError.Dir,
	// the directory holding the store, and it is not sticky, so they can
	// replace the store. PermissionError.Mode is the directory's mode.
	ReasonDirectory
	// ReasonNotRegular: something other than a regular file (a symbolic
	// link, a FIFO, a device) is where hush would lock. It is never
	// followed or replaced.
	ReasonNotRegular
)

// PermissionError reports a store, lock or identity file that is refused
// because someone else could read a key or replace a store. It unwraps to
// ErrInsecurePermissions.
type PermissionError struct {
	Path   string // the file refused
	Reason PermissionReason
	Mode   fs.FileMode // the file's mode; the directory's for ReasonDirectory
	UID    int         // the owner, for ReasonOwner
	Links  uint64      // the link count, for ReasonLinks
	Dir    string      // the directory, for ReasonDirectory
}

func (e *PermissionError) Error() string {
	switch e.Reason {
	case ReasonOwner:
		return fmt.Sprintf("%s is owned by another user (uid %d)", e.Path, e.UID)
	case ReasonLinks:
		return fmt.Sprintf("%s has %d hard links (another name for it could change it)", e.Path, e.Links)
	case ReasonDirectory:
		return fmt.Sprintf("directory %s is writable by group or others (mode %04o), so they could replace %s",
			e.Dir, e.Mode.Perm(), e.Path)
	case ReasonNotRegular:
		return fmt.Sprintf("%s is %s, not a regular file; hush never follows or replaces it", e.Path, atomicfile.Describe(e.Mode))
	}
	if e.Mode.Perm()&0o022 != 0 {
		return fmt.Sprintf("%s is writable by group or others (mode %04o)", e.Path, e.Mode.Perm())
	}
	return fmt.Sprintf("%s is accessible by group or others (mode %04o)", e.Path, e.Mode.Perm())
}

func (e *PermissionError) Unwrap() error { return ErrInsecurePermissions }

// CheckPermissions applies the rule for an identity file (a private key)
// to path, whose information is fi: it returns a *PermissionError
// (ErrInsecurePermissions) if group or others can read or write it
// (ReasonMode), or if another user than the caller or root owns it
// (ReasonOwner); nil otherwise.
func CheckPermissions(path string, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o077 != 0 {
		return &PermissionError{Path: path, Reason: ReasonMode, Mode: fi.Mode()}
	}
	return checkOwner(path, fi)
}

// CheckStorePermissions applies the rule for a store to path, whose
// information (following symbolic links) is fi. It returns a
// *PermissionError (ErrInsecurePermissions) if group or others can write
// the file (ReasonMode), another user than the caller or root owns it
// (ReasonOwner), it has more than one hard link (ReasonLinks), or group
// or others can write a directory holding it that is not sticky
// (ReasonDirectory: the directory of path and, if path is a symbolic
// link, that of its target). Group and others may read it. It returns
// another error if a directory cannot be examined, nil if all is well.
func CheckStorePermissions(path string, fi fs.FileInfo) error {
	if err := checkStoreFile(path, fi); err != nil {
		return err
	}
	return checkStoreDirs(path)
}

// checkStoreDirs is the part of CheckStorePermissions about directories.
func checkStoreDirs(path string) error {
	dirs := []string{filepath.Dir(path)}
	if li, err := os.Lstat(path); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return err
		}
		dirs = append(dirs, filepath.Dir(target))
	}
	for _, d := range dirs {
		di, err := os.Stat(d)
		if err != nil {
			return err
		}
		if m := di.Mode(); m.Perm()&0o022 != 0 && m&fs.ModeSticky == 0 {
			return &PermissionError{Path: path, Reason: ReasonDirectory, Mode: m, Dir: d}
		}
	}
	return nil
}

// checkStoreFile is the part of CheckStorePermissions that needs nothing
// but fi.
func checkStoreFile(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return &StoreError{Path: path, Err: notRegular(fi.Mode())}
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return &PermissionError{Path: path, Reason: ReasonMode, Mode: fi.Mode()}
	}
	if err := checkOwner(path, fi); err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
		return &PermissionError{Path: path, Reason: ReasonLinks, Mode: fi.Mode(), Links: uint64(st.Nlink)}
	}
	return nil
}

// checkOwner refuses a file owned by another user than the caller or root.
func checkOwner(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := int(st.Uid); uid != 0 && uid != os.Geteuid() {
		return &PermissionError{Path: path, Reason: ReasonOwner, Mode: fi.Mode(), UID: uid}
	}
	return nil
}

// checkPerm is the full check when the store is opened or read from disk:
// the store by CheckStorePermissions, and its lock file, which must be a
// regular file (always) owned by the caller or root. fi is the store's.
func (f *File) checkPerm(fi fs.FileInfo) error {
	if err := f.checkLock(); err != nil {
		return err
	}
	if f.opts.AllowInsecurePermissions {
		return nil
	}
	return CheckStorePermissions(f.path, fi)
}

// checkFile is the check of a cached read, which stats nothing else: a
// replaced store is read again, and checked in full, by checkPerm.
func (f *File) checkFile(fi fs.FileInfo) error {
	if f.opts.AllowInsecurePermissions {
		return nil
	}
	return checkStoreFile(f.path, fi)
}

// checkCreate is the check before a store is created at f.path, whose
// directory exists: the lock as checkPerm checks it, and the directories
// as CheckStorePermissions checks them, so that a store is not made where
// it would be refused.
func (f *File) checkCreate() error {
	if err := f.checkLock(); err != nil {
		return err
	}
	if f.opts.AllowInsecurePermissions {
		return nil
	}
	return checkStoreDirs(f.path)
}

// checkLock refuses a lock path holding something other than a regular
// file, whatever the options (the lock is never followed), and a lock file
// owned by another user unless AllowInsecurePermissions. A missing lock
// file is fine: the first write creates it.
func (f *File) checkLock() error {
	p := f.LockPath()
	if err := lock.Check(p); err != nil {
		var fe *lock.FileError
		if errors.As(err, &fe) {
			return &PermissionError{Path: p, Reason: ReasonNotRegular, Mode: fe.Mode}
		}
		return &StoreError{Path: f.path, Err: err}
	}
	if f.opts.AllowInsecurePermissions {
		return nil
	}
	li, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &StoreError{Path: f.path, Err: err}
	}
	return checkOwner(p, li)
}
