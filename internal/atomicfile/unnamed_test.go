package atomicfile_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/hush-secrets/hush/internal/atomicfile"
)

// With Unnamed, a pending file has no name in the directory until it
// replaces the target, a cleaned-up one leaves nothing, and a replace
// through a symbolic link replaces the link's target.
func TestUnnamed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("unnamed files are linux-only")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "out")
	listing := func() []string {
		es, _ := os.ReadDir(dir)
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}

	p, err := atomicfile.NewPendingFile(target, 0o600, atomicfile.Unnamed())
	if err != nil {
		t.Fatal(err)
	}
	p.Write([]byte("secret"))
	if n := p.Name(); n != "" {
		t.Errorf("Name() = %q while pending, want none", n)
	}
	if l := listing(); len(l) != 0 {
		t.Fatalf("the directory holds %v while the file is pending", l)
	}
	if err := p.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if l := listing(); len(l) != 0 {
		t.Fatalf("the directory holds %v after Cleanup", l)
	}

	real := filepath.Join(dir, "real")
	os.WriteFile(real, []byte("old"), 0o600)
	if err := os.Symlink("real", target); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(target, []byte("new"), 0o600, atomicfile.Unnamed()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(real); string(b) != "new" {
		t.Fatalf("the link's target holds %q", b)
	}
	if fi, err := os.Lstat(target); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if l := listing(); len(l) != 2 {
		t.Fatalf("the directory holds %v", l)
	}
}
