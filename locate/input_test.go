package locate_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/store"
)

// TestIdentityNotRegularRefused: an identity "file" that is a named pipe
// or a device is refused at once, unread, whatever the options (it hung
// on a pipe, and read 16 MiB of a device as an identity).
func TestIdentityNotRegularRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, p := range []string{fifo, "/dev/zero", t.TempDir()} {
		for _, insecure := range []bool{false, true} {
			done := make(chan error, 1)
			go func() {
				_, err := locate.Identities(locate.Options{Files: []string{p}, Getenv: env(nil), AllowInsecurePermissions: insecure})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "not a regular file") {
					t.Errorf("%s (insecure %v): %v, want a refusal: not a regular file", p, insecure, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: still reading after 10s", p)
			}
		}
	}
}

// TestIdentityOverLimitRefused: an identity file over
// MaxIdentityFileSize is refused with ErrLimit, not cut short; one at the
// limit is read.
func TestIdentityOverLimitRefused(t *testing.T) {
	id := newIdentity(t)
	line := id.String() + "\n"
	dir := t.TempDir()
	at := filepath.Join(dir, "at.txt")
	// short comment lines pad the file; the identity is its last line
	padding := func(n int) string {
		row := "#" + strings.Repeat("x", 62) + "\n"
		return strings.Repeat(row, n/len(row)) + "#" + strings.Repeat("x", n%len(row)-2) + "\n"
	}
	pad := locate.MaxIdentityFileSize - len(line)
	writeFile(t, at, []byte(padding(pad)+line), 0o600)
	if fi, _ := os.Stat(at); fi.Size() != locate.MaxIdentityFileSize {
		t.Fatalf("test file is %d bytes", fi.Size())
	}
	if _, err := locate.Identities(locate.Options{Files: []string{at}, Getenv: env(nil)}); err != nil {
		t.Fatalf("a file of exactly the limit: %v", err)
	}
	over := filepath.Join(dir, "over.txt")
	writeFile(t, over, []byte(padding(pad+1)+line), 0o600)
	_, err := locate.Identities(locate.Options{Files: []string{over}, Getenv: env(nil)})
	if !errors.Is(err, store.ErrLimit) || !strings.Contains(err.Error(), over) {
		t.Fatalf("a file one byte over the limit: %v, want ErrLimit naming %s", err, over)
	}
	if fi, _ := os.Stat(over); fi.Size() != locate.MaxIdentityFileSize+1 {
		t.Fatalf("test file is %d bytes", fi.Size())
	}
}
