package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrNotRegular marks a target that is not a regular file (a named pipe,
// a device, a directory, a socket) or a symbolic link that does not lead
// to one (dangling, a loop, or planted by another user in a shared
// directory). Nothing is written through it or replaces it.
var ErrNotRegular = errors.New("not a regular file")

// StepTarget is the look at what is at the target, before the temp file
// is created and again right before the rename. It is not a fault to
// inject, so it is not in [Steps]: an *Error for it wraps ErrNotRegular,
// or reports that the target changed during the write.
const StepTarget Step = "replace"

// maxHops bounds a chain of symbolic links, as the kernel's ELOOP does.
const maxHops = 40

// Resolve returns the path a write to target replaces: target itself when
// nothing is there or a regular file is, or, when target is a symbolic
// link, the regular file at the end of its chain (a clean path with no
// link in it), so that the write replaces the link's target in the
// target's directory and leaves the link in place.
//
// A link in /proc (/dev/stdout, /dev/fd/N) is not followed: it names an
// open file, and the file at the path it shows may be a log appended to,
// or another file by now. Any other symbolic link is followed only where
// the kernel's protected_symlinks rule would follow it: outside a sticky
// world-writable directory (/tmp), or owned by the caller or by that
// directory's owner. A link another user planted there is refused, so a
// secret written to /tmp/out never replaces the file the link points at.
//
// Anything else at target, a dangling link included, is an *Error for
// StepTarget wrapping ErrNotRegular; any other failure to look is an
// *Error for StepTarget wrapping the system's error.
func Resolve(target string) (string, error) {
	cur := target
	var fi fs.FileInfo
	for hops := 0; ; hops++ {
		var err error
		fi, err = os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist) && hops == 0:
			return target, nil // a new file
		case errors.Is(err, fs.ErrNotExist):
			return "", notRegular(target, "a dangling symbolic link")
		case err != nil:
			return "", &Error{Step: StepTarget, Path: target, Err: err}
		case fi.Mode().IsRegular():
			return canonical(target, cur, fi)
		case fi.Mode()&fs.ModeSymlink == 0:
			return "", notRegular(target, Describe(fi.Mode()))
		case hops == maxHops:
			return "", notRegular(target, "too many levels of symbolic links")
		}
		dir, base := split(cur)
		dir, err = filepath.EvalSymlinks(dir)
		if err != nil {
			return "", &Error{Step: StepTarget, Path: target, Err: err}
		}
		if !mayFollow(dir, fi) {
			return "", notRegular(target, "a symbolic link another user owns in a shared directory "+dir)
		}
		if dir == "/proc" || strings.HasPrefix(dir, "/proc/") {
			// /dev/stdout and /proc/self/fd/N name an open file, not a
			// path: replacing the file they show (a log stdout appends
			// to) would not write to them.
			return "", notRegular(target, "a handle to an open file in /proc")
		}
		dest, err := os.Readlink(filepath.Join(dir, base))
		if err != nil {
			return "", &Error{Step: StepTarget, Path: target, Err: err}
		}
		if !filepath.IsAbs(dest) {
			dest = dir + string(filepath.Separator) + dest // not Join: a ".." must follow links, as the kernel's does
		}
		cur = dest
	}
}

// canonical returns the clean, link-free path of cur, the regular file
// fi at the end of target's chain, checking that it is still that file.
func canonical(target, cur string, fi fs.FileInfo) (string, error) {
	if cur == target {
		return target, nil
	}
	real, err := filepath.EvalSymlinks(cur)
	if err != nil {
		return "", &Error{Step: StepTarget, Path: target, Err: err}
	}
	if again, err := os.Lstat(real); err != nil || !os.SameFile(fi, again) {
		return "", &Error{Step: StepTarget, Path: target, Err: errChanged}
	}
	return real, nil
}

var errChanged = errors.New("the target changed during the write")

// split splits p at its last separator without cleaning it, so that a
// ".." before it is resolved by EvalSymlinks after the links it follows.
func split(p string) (dir, base string) {
	i := strings.LastIndexByte(p, filepath.Separator)
	switch {
	case i < 0:
		return ".", p
	case i == 0:
		return string(filepath.Separator), p[1:]
	}
	return p[:i], p[i+1:]
}

// mayFollow applies the kernel's protected_symlinks rule to the link fi
// in the resolved directory dir: a link in a sticky world-writable
// directory is followed only if the caller or the directory's owner owns
// it. The rule is enforced here because the chain is read with readlink,
// which the kernel's rule does not cover, and because many systems do not
// turn it on.
func mayFollow(dir string, fi fs.FileInfo) bool {
	di, err := os.Stat(dir)
	if err != nil {
		return false
	}
	if di.Mode()&fs.ModeSticky == 0 || di.Mode().Perm()&0o002 == 0 {
		return true
	}
	link, ok1 := fi.Sys().(*syscall.Stat_t)
	d, ok2 := di.Sys().(*syscall.Stat_t)
	if !ok1 || !ok2 {
		return false
	}
	return link.Uid == uint32(os.Geteuid()) || link.Uid == d.Uid
}

func notRegular(target, what string) error {
	return &Error{Step: StepTarget, Path: target, Err: fmt.Errorf("%w (%s)", ErrNotRegular, what)}
}

// Describe names the type of a file in a few words, for an error saying
// why it was refused: "a named pipe", "a symbolic link". Every refusal of
// a file that is not a regular one (outputs here, inputs in
// internal/inputfile, the store's lock) words it with this.
func Describe(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsRegular():
		return "a regular file"
	}
	return "an irregular file"
}
