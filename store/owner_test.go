package store_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hush-secrets/hush/store"
)

// nobody is the second user of the owner tests.
const nobody = 65534

// A store owned by root is accepted by another user who can read it (a
// server's /etc/myapp/secrets.age, read by the service user), as is one
// group and others can read; one group and others can write is refused.
// The reader really runs as another uid, so this needs root.
func TestStoreOwnedByRootReadByAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another uid")
	}
	f, identity := newStore(t)
	ctx := context.Background()
	if err := f.Set(ctx, "K", []byte("v")); err != nil {
		t.Fatal(err)
	}
	// The child must reach the test binary and the store: copy the binary
	// to a directory others can enter, and open up the store's.
	bin := filepath.Join(sharedDir(t), "store.test")
	copyFile(t, os.Args[0], bin, 0o755)
	openUp(t, filepath.Dir(f.Path()))
	if err := os.Chmod(f.Path(), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func() (string, error) {
		cmd := exec.Command(bin, "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChild+"=get", envStore+"="+f.Path(), envIdentity+"="+identity, "GORACE=atexit_sleep_ms=0")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Skipf("uid %d cannot start the test binary here (is a directory above it closed to others?): %v", nobody, err)
	}
	if err != nil || strings.TrimSpace(out) != "v" {
		t.Fatalf("uid %d reading a root-owned 0644 store: %v\n%s", nobody, err, out)
	}
	if err := os.Chmod(f.Path(), 0o666); err != nil {
		t.Fatal(err)
	}
	out, err = run()
	if err == nil || !strings.Contains(out, "writable by group or others") {
		t.Fatalf("uid %d reading a root-owned 0666 store: %v\n%s", nobody, err, out)
	}
	if _, err := f.Get(ctx, "K"); !errors.Is(err, store.ErrInsecurePermissions) {
		t.Fatalf("root reading it: %v; want ErrInsecurePermissions", err)
	}
}

// sharedDir returns a new directory that every user can enter.
func sharedDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	openUp(t, d)
	return d
}

// openUp makes d and its parents up to the filesystem root enterable by
// every user, restoring their modes at the end of the test.
func openUp(t *testing.T, d string) {
	t.Helper()
	for ; d != filepath.Dir(d); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o005 == 0o005 {
			continue
		}
		if err := os.Chmod(d, fi.Mode().Perm()|0o055); err != nil {
			t.Fatal(err)
		}
		mode := fi.Mode()
		t.Cleanup(func() { os.Chmod(d, mode) })
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, mode); err != nil {
		t.Fatal(err)
	}
}
