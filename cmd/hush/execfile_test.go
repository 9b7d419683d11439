//go:build linux

package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMemoryDir pins where --file puts its directory: $XDG_RUNTIME_DIR
// when it is a memory file system of the user's closed to others, else
// /dev/shm, else nowhere (a refusal), never a disk.
func TestMemoryDir(t *testing.T) {
	if !memoryFS(shmDir) {
		t.Skip("no tmpfs at /dev/shm")
	}
	inShm := func(t *testing.T, perm os.FileMode) string {
		d, err := os.MkdirTemp(shmDir, "hush-test-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		if err := os.Chmod(d, perm); err != nil {
			t.Fatal(err)
		}
		return d
	}
	check := func(t *testing.T, runtimeDir, wantBase string) {
		t.Helper()
		dir, err := memoryDir(runtimeDir)
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(dir)
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm() != 0o700 || filepath.Dir(dir) != wantBase || !strings.HasPrefix(filepath.Base(dir), cleanerPrefix) {
			t.Errorf("memoryDir(%q) = %s (%v, %v), want a 0700 %s* in %s", runtimeDir, dir, fi.Mode(), err, cleanerPrefix, wantBase)
		}
	}
	t.Run("runtime dir on tmpfs", func(t *testing.T) { d := inShm(t, 0o700); check(t, d, d) })
	t.Run("runtime dir open to others", func(t *testing.T) { check(t, inShm(t, 0o755), shmDir) })
	t.Run("runtime dir relative", func(t *testing.T) { check(t, "run", shmDir) })
	t.Run("runtime dir unset", func(t *testing.T) { check(t, "", shmDir) })
	disk := t.TempDir()
	if err := os.Chmod(disk, 0o700); err != nil { // private: only its file system rules it out
		t.Fatal(err)
	}
	if memoryFS(disk) {
		t.Skip("the test's temporary directory is a memory file system too")
	}
	t.Run("runtime dir on disk", func(t *testing.T) { check(t, disk, shmDir) })
	t.Run("no memory file system", func(t *testing.T) {
		defer func(old string) { shmDir = old }(shmDir)
		shmDir = disk
		dir, err := memoryDir(disk)
		if err == nil || !errors.Is(err, errRefused) || !errors.Is(err, errNoMemoryFS) {
			t.Errorf("memoryDir with only disks = %q, %v; want a refusal", dir, err)
		}
		if es, _ := os.ReadDir(disk); len(es) != 0 {
			t.Errorf("memoryDir left %v on disk", es)
		}
	})
}
