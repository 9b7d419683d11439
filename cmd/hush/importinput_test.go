package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/store"
)

// A file to import is mapped, not copied; the values an import copied
// out of it (quoted, with escapes) are cleared after it, and the file's
// own bytes are neither written nor cleared.
func TestImportInputMapped(t *testing.T) {
	p := filepath.Join(t.TempDir(), "in.env")
	if err := os.WriteFile(p, []byte("A=plain\nB=\"tab\\there\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &app{}
	in, err := a.readImport(p, maxImport)
	if err != nil {
		t.Fatal(err)
	}
	defer in.release()
	if !in.mapped {
		t.Fatal("a regular file to import was read, not mapped")
	}
	secrets, err := formats.ParseDotenvBytes(in.data)
	if err != nil || len(secrets) != 2 {
		t.Fatalf("parse = %v, %v", secrets, err)
	}
	in.clearSecrets(secrets) // a write to the mapped file's bytes would kill the test
	// Clearing allocates nothing (a value a time would be a heap of a
	// hundred thousand at 100,000 entries).
	values := [][]byte{secrets[0].Value, secrets[1].Value}
	if n := testing.AllocsPerRun(10, func() { in.clearSecrets(secrets); in.clearValues(values) }); n != 0 {
		t.Errorf("clearing the secrets of a mapped input allocates %v times, want 0", n)
	}
	if string(secrets[0].Value) != "plain" {
		t.Errorf("the value in the mapped file is %q after clearing, want it untouched", secrets[0].Value)
	}
	if strings.Trim(string(secrets[1].Value), "\x00") != "" {
		t.Errorf("the value copied out of quotes is %q after clearing, want zeroes", secrets[1].Value)
	}
}

// A mapped input cut short by another process while it is read is an
// error, not a fault that kills the process, and nothing is imported.
func TestImportInputCutShort(t *testing.T) {
	var b strings.Builder
	for i := range 30000 { // over 1 MiB: parsed in two halves, one in a goroutine of its own
		fmt.Fprintf(&b, "SECRET_%06d=%s\n", i, strings.Repeat("v", 32))
	}
	data := b.String()
	// Cut short where the parser reads first: the start (read by the
	// caller's goroutine), and a page past the middle (the second half's).
	half := len(data) / 2
	half += strings.IndexByte(data[half:], '\n') + 1
	for _, size := range []int64{0, int64(half/4096+2) * 4096} {
		p := filepath.Join(t.TempDir(), "in.env")
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		a := &app{}
		in, err := a.readImport(p, maxImport)
		if err != nil {
			t.Fatal(err)
		}
		defer in.release()
		if err := os.Truncate(p, size); err != nil {
			t.Fatal(err)
		}
		m := store.NewMemory()
		rep, err := runImport(context.Background(), m, importOptions{Format: "dotenv"}, in)
		if !errors.Is(err, errInputChanged) || rep != nil {
			t.Fatalf("import of a file cut short to %d bytes = report %v, %v; want errInputChanged", size, rep != nil, err)
		}
		if es, err := m.List(context.Background()); err != nil || len(es) != 0 {
			t.Errorf("an import of a file cut short to %d bytes wrote %d secrets (%v)", size, len(es), err)
		}
	}
}
