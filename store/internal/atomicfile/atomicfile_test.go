package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var (
	oldContent = []byte("old content\n")
	newContent = []byte("new content, longer than the old one\n")
)

func setup(t *testing.T) (dir, target string) {
	t.Helper()
	dir = t.TempDir()
	target = filepath.Join(dir, "store.age")
	if err := os.WriteFile(target, oldContent, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, target
}

func writeNew(w io.Writer) error {
	_, err := w.Write(newContent)
	return err
}

// strays returns the temp files left in dir for target.
func strays(t *testing.T, dir, target string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if IsTemp(target, de.Name()) {
			out = append(out, de.Name())
		}
	}
	return out
}

func TestWriteReplacesPrivately(t *testing.T) {
	old := syscall.Umask(0) // a permissive umask must not loosen the mode
	defer syscall.Umask(old)
	dir, target := setup(t)
	before, _ := os.Stat(target)
	if err := Write(target, 0o600, nil, writeNew); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(target)
	if err != nil || !bytes.Equal(got, newContent) {
		t.Fatalf("target = %q, %v; want the new content", got, err)
	}
	fi, _ := os.Stat(target)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o, want 0600", fi.Mode().Perm())
	}
	if os.SameFile(before, fi) {
		t.Fatal("target rewritten in place; it must be replaced by a new inode")
	}
	if s := strays(t, dir, target); len(s) != 0 {
		t.Fatalf("temp files left: %v", s)
	}
}

// Each step made to fail in turn: the error names the step, the fault
// hook is never consulted again for that step (a failed fsync is not
// retried), no temp file is left, and for every step before the rename the
// target is byte-identical. A failed directory sync happens after the
// rename: the new content is in place and the error says it may not be
// durable.
func TestEachStepFails(t *testing.T) {
	injected := errors.New("injected fault")
	for i, failing := range Steps {
		t.Run(string(failing), func(t *testing.T) {
			dir, target := setup(t)
			var seen []Step
			err := Write(target, 0o600, func(s Step) error {
				seen = append(seen, s)
				if s == failing {
					return injected
				}
				return nil
			}, writeNew)
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if ae.Step != failing || !errors.Is(err, injected) {
				t.Fatalf("err = %v, want step %q wrapping the injected error", err, failing)
			}
			if !strings.Contains(err.Error(), string(failing)) {
				t.Fatalf("message %q does not name the step", err)
			}
			if want := Steps[:i+1]; !equalSteps(seen, want) {
				t.Fatalf("steps taken %q, want %q (no step after a failure, none twice)", seen, want)
			}
			if s := strays(t, dir, target); len(s) != 0 {
				t.Fatalf("temp files left: %v", s)
			}
			got, rerr := os.ReadFile(target)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if failing == StepDirSync {
				if !bytes.Equal(got, newContent) {
					t.Fatalf("after a failed directory sync the target = %q, want the new content (the rename happened)", got)
				}
				if !errors.Is(err, ErrNotDurable) {
					t.Fatalf("dir sync error %v does not wrap ErrNotDurable", err)
				}
				return
			}
			if errors.Is(err, ErrNotDurable) {
				t.Fatalf("%v: only a directory sync failure is ErrNotDurable", err)
			}
			if !bytes.Equal(got, oldContent) {
				t.Fatalf("target changed to %q after a failed %s", got, failing)
			}
		})
	}
}

func equalSteps(a, b []Step) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A real (not injected) failure of the content writer, after part of the
// content went out.
func TestWriterErrorMidway(t *testing.T) {
	dir, target := setup(t)
	boom := errors.New("source failed")
	err := Write(target, 0o600, nil, func(w io.Writer) error {
		w.Write(newContent[:5])
		return boom
	})
	var ae *Error
	if !errors.As(err, &ae) || ae.Step != StepWrite || !errors.Is(err, boom) {
		t.Fatalf("err = %v, want a write-step error wrapping the writer's error", err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, oldContent) {
		t.Fatalf("target = %q, want it untouched", got)
	}
	if s := strays(t, dir, target); len(s) != 0 {
		t.Fatalf("temp files left: %v", s)
	}
}

// Real failures from the file system: a missing directory fails creating
// the temp file; a target that is a non-empty directory fails the rename,
// and the temp file is removed.
func TestRealFailures(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "missing", "store.age")
		var ae *Error
		if err := Write(target, 0o600, nil, writeNew); !errors.As(err, &ae) || ae.Step != StepCreate {
			t.Fatalf("err = %v, want a create-step error", err)
		}
	})
	t.Run("rename", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "store.age")
		if err := os.MkdirAll(filepath.Join(target, "x"), 0o700); err != nil {
			t.Fatal(err)
		}
		var ae *Error
		if err := Write(target, 0o600, nil, writeNew); !errors.As(err, &ae) || ae.Step != StepRename {
			t.Fatalf("err = %v, want a rename-step error", err)
		}
		if s := strays(t, dir, target); len(s) != 0 {
			t.Fatalf("temp files left: %v", s)
		}
	})
}

func TestTempNames(t *testing.T) {
	target := "/some/dir/store.age"
	if p := TempPrefix(target); p != ".store.age.tmp-" {
		t.Fatalf("TempPrefix = %q", p)
	}
	if !IsTemp(target, ".store.age.tmp-0123abcd") || IsTemp(target, "store.age") || IsTemp(target, "store.age.lock") {
		t.Fatal("IsTemp misclassifies")
	}
}

func TestDirSyncMessage(t *testing.T) {
	_, target := setup(t)
	err := Write(target, 0o600, func(s Step) error {
		if s == StepDirSync {
			return errors.New("injected")
		}
		return nil
	}, writeNew)
	want := "sync directory " + target + ": injected; " + ErrNotDurable.Error()
	if err == nil || err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
}
