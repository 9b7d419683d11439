package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/internal/atomicfile/atomicfiletest"
)

// A new identity is created exclusively and durably: never over an
// existing file (refused, the file byte-identical), with one fsync of the
// file and one of its directory, and nothing left behind when any step
// fails.
func TestWriteNewIdentity(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.txt")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := writeNewIdentity(existing, false, nil); !errors.Is(err, errRefused) {
		t.Fatalf("over an existing file: %v, want a refusal", err)
	}
	if got, _ := os.ReadFile(existing); !bytes.Equal(got, []byte("keep me")) {
		t.Fatalf("the existing file changed to %q", got)
	}

	path := filepath.Join(dir, "sub", "identity.txt")
	var fail atomicfile.Step
	steps := map[atomicfile.Step]int{}
	atomicfiletest.Inject(t, func(target string, s atomicfile.Step) error {
		if target != path {
			return nil
		}
		steps[s]++
		if s == fail {
			return errors.New("injected")
		}
		return nil
	})
	for _, fail = range []atomicfile.Step{atomicfile.StepCreate, atomicfile.StepWrite, atomicfile.StepSync, atomicfile.StepClose, atomicfile.StepDirSync} {
		if _, err := writeNewIdentity(path, false, nil); err == nil {
			t.Fatalf("a failed %s succeeded", fail)
		}
		if des, _ := os.ReadDir(filepath.Dir(path)); len(des) != 0 {
			t.Fatalf("after a failed %s: %v left", fail, des)
		}
	}
	fail = ""
	clear(steps)
	r, err := writeNewIdentity(path, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); !bytes.Contains(data, []byte(r)) {
		t.Fatalf("identity file does not hold its recipient %s", r)
	}
	if steps[atomicfile.StepSync] != 1 || steps[atomicfile.StepDirSync] != 1 {
		t.Fatalf("steps %v: want one fsync of the file and one of the directory", steps)
	}
}
