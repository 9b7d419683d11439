package store_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/internal/testkit"
	"github.com/hush-secrets/hush/store"
)

// nobody is the second user of the owner tests.
const nobody = 65534

// A store owned by root is accepted by another user who can read it (a
// server's /etc/myapp/secrets.age, read by the service user), as is one
// group and others can read; one group and others can write is refused.
// The reader really runs as another uid, chrooted in a directory holding
// a copy of the store and of this test binary (with its libraries), since
// on hosts whose / is closed to other users (containers, VMs) it could not
// reach them otherwise. This needs root.
func TestStoreOwnedByRootReadByAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another uid")
	}
	f, identity := newStore(t)
	ctx := context.Background()
	if err := f.Set(ctx, "K", []byte("v")); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	bin, err := testkit.ChrootBinary(root, os.Args[0], "store.test")
	if err != nil {
		t.Skipf("cannot run the test binary as uid %d: %v", nobody, err)
	}
	path := filepath.Join(root, "store.age")
	copyFile(t, f.Path(), path, 0o644)
	// stdout is the value alone; stderr the error (and, under -race, the
	// race runtime's warnings about a chroot without /proc).
	run := func() (string, string, error) {
		cmd := testkit.CommandAs(root, nobody, bin, "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = []string{envChild + "=get", envStore + "=/store.age", envIdentity + "=" + identity, "GORACE=atexit_sleep_ms=0"}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	out, errOut, err := run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("uid %d cannot start the test binary in its chroot: %v", nobody, err)
	}
	if err != nil || strings.TrimSpace(out) != "v" {
		t.Fatalf("uid %d reading a root-owned 0644 store: %v\nstdout: %q\nstderr: %s", nobody, err, out, errOut)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = run()
	if err == nil || !strings.Contains(out+errOut, "writable by group or others") {
		t.Fatalf("uid %d reading a root-owned 0666 store: %v\n%s%s", nobody, err, out, errOut)
	}
	if _, err := store.Open(path, store.Options{}); !errors.Is(err, store.ErrInsecurePermissions) {
		t.Fatalf("root opening it: %v; want ErrInsecurePermissions", err)
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
