package testkit

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// OtherUID is the uid (and gid) of the second local user in the tests
// that need one: nobody.
const OtherUID = 65534

// libDirs are where the dynamic linker finds the libraries a test binary
// needs, in its order of search for the usual layouts.
var libDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
	"/lib64", "/usr/lib64", "/lib", "/usr/lib",
}

// ChrootBinary prepares root so that another user can run binary chrooted
// in it: the binary is copied to root/name, and for a dynamically linked
// one its ELF interpreter and every shared library it needs are copied
// under root at their own paths. root is made 0755. It returns the path of
// the binary inside the chroot ("/" + name).
//
// A chroot is how the tests run a process of another uid on hosts where a
// directory above the test's files is closed to other users (a VM or a
// container whose / is 0700): inside it, root is "/". Running it needs
// root privileges (see CommandAs); without them ChrootBinary fails.
func ChrootBinary(root, binary, name string) (string, error) {
	if os.Geteuid() != 0 {
		return "", errors.New("not root: cannot run a process as another uid")
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return "", err
	}
	if err := copyInto(root, binary, "/"+name); err != nil {
		return "", err
	}
	seen := map[string]bool{}
	var add func(file string) error
	add = func(file string) error {
		f, err := elf.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type != elf.PT_INTERP {
				continue
			}
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return err
			}
			interp := strings.TrimRight(string(b), "\x00")
			if !seen[interp] {
				seen[interp] = true
				if err := copyInto(root, interp, interp); err != nil {
					return err
				}
			}
		}
		libs, err := f.ImportedLibraries()
		if err != nil {
			return err
		}
		for _, lib := range libs {
			path, err := findLib(lib)
			if err != nil {
				return err
			}
			if seen[path] {
				continue
			}
			seen[path] = true
			if err := copyInto(root, path, path); err != nil {
				return err
			}
			if err := add(path); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(binary); err != nil {
		return "", fmt.Errorf("copying %s and its libraries into a chroot: %w", binary, err)
	}
	return "/" + name, nil
}

// findLib finds the shared library lib in libDirs.
func findLib(lib string) (string, error) {
	for _, d := range libDirs {
		p := filepath.Join(d, lib)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("shared library %s not found in %v", lib, libDirs)
}

// copyInto copies the file from (following links) to root/to, mode 0755,
// making its directories 0755.
func copyInto(root, from, to string) error {
	dst := filepath.Join(root, to)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, 0o755)
}

// CommandAs returns a command running path, a binary inside root (see
// ChrootBinary), as uid with gid uid, chrooted in root, in its "/".
func CommandAs(root string, uid int, path string, args ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	return cmd
}
