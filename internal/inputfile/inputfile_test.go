package inputfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hush-secrets/hush/internal/inputfile"
	"github.com/hush-secrets/hush/store"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "in")
	if err := os.WriteFile(p, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := inputfile.ReadFile(p, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadFile at the limit = %q, %v", b, err)
	}
	if b, err := inputfile.ReadFile(p, 4); !errors.Is(err, store.ErrLimit) || b != nil {
		t.Errorf("ReadFile over the limit = %q, %v; want ErrLimit and nothing", b, err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	if b, err := inputfile.ReadFile(link, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadFile through a link = %q, %v", b, err)
	}
	if _, err := inputfile.ReadFile(filepath.Join(dir, "missing"), 5); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile of a missing file = %v, want ErrNotExist", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for p, kind := range map[string]string{fifo: "a named pipe", "/dev/null": "a character device", dir: "a directory"} {
		_, err := inputfile.ReadFile(p, 5)
		var ne *inputfile.NotRegularError
		if !errors.Is(err, inputfile.ErrNotRegular) || !errors.As(err, &ne) || ne.Path != p {
			t.Errorf("ReadFile(%s) = %v, want a *NotRegularError", p, err)
		} else if want := p + " is " + kind + ", not a regular file"; err.Error() != want {
			t.Errorf("ReadFile(%s) = %q, want %q", p, err, want)
		}
	}
}

func TestRead(t *testing.T) {
	if b, err := inputfile.Read(strings.NewReader("abc"), "standard input", 3); err != nil || string(b) != "abc" {
		t.Errorf("Read at the limit = %q, %v", b, err)
	}
	_, err := inputfile.Read(strings.NewReader("abcd"), "standard input", 3)
	if !errors.Is(err, store.ErrLimit) || err.Error() != "standard input: limit exceeded: more than 3 bytes" {
		t.Errorf("Read over the limit = %v", err)
	}
}

// Map gives what ReadFile gives, with the same refusals; an empty file is
// read, not mapped.
func TestMap(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "in")
	if err := os.WriteFile(p, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, release, err := inputfile.Map(p, 5)
	if err != nil || string(b) != "12345" {
		t.Fatalf("Map at the limit = %q, %v", b, err)
	}
	release()
	if b, _, err := inputfile.Map(p, 4); !errors.Is(err, store.ErrLimit) || b != nil {
		t.Errorf("Map over the limit = %q, %v; want ErrLimit and nothing", b, err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, release, err := inputfile.Map(empty, 5); err != nil || len(b) != 0 {
		t.Errorf("Map of an empty file = %q, %v", b, err)
	} else {
		release()
	}
	if _, _, err := inputfile.Map(filepath.Join(dir, "missing"), 5); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Map of a missing file = %v, want ErrNotExist", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/null", dir} {
		if _, _, err := inputfile.Map(p, 5); !errors.Is(err, inputfile.ErrNotRegular) {
			t.Errorf("Map(%s) = %v, want a *NotRegularError", p, err)
		}
	}
}
