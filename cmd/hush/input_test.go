package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportStdinOverLimitRefused: `hush import -` of more than the limit
// is refused with exit 1 and nothing imported (it was cut at the limit,
// and the rest imported with exit 0). The limit is lowered to keep the
// test small; an input of exactly the limit is accepted.
func TestImportStdinOverLimitRefused(t *testing.T) {
	old := maxImport
	t.Cleanup(func() { maxImport = old })
	_, env := homeWithStore(t)
	exact := "EXACT=value\n"
	maxImport = int64(len(exact))
	var out, errb bytes.Buffer
	if code := run([]string{"import", "-"}, strings.NewReader(exact), &out, &errb, env); code != 0 {
		t.Fatalf("import of exactly the limit: exit %d: %s", code, errb.Bytes())
	}
	over := "A=1\nB=2\nC=3\n"
	maxImport = int64(len(over)) - 1 // cut at the limit, "C=3" would still parse
	errb.Reset()
	if code := run([]string{"import", "-"}, strings.NewReader(over), &out, &errb, env); code != exitError {
		t.Fatalf("import of more than the limit: exit %d, want %d: %s", code, exitError, errb.Bytes())
	}
	if want := "hush: standard input: limit exceeded: more than 11 bytes\n"; errb.String() != want {
		t.Errorf("stderr = %q, want %q", errb.String(), want)
	}
	errb.Reset()
	if code := run([]string{"ls"}, strings.NewReader(""), &out, &errb, env); code != 0 || out.String() != "EXACT\n" {
		t.Errorf("after the refused import, ls: exit %d, %q, want only EXACT", code, out.String())
	}
}

// TestImportFileOverLimitRefused: a file over the limit is refused too,
// not read in part.
func TestImportFileOverLimitRefused(t *testing.T) {
	old := maxImport
	t.Cleanup(func() { maxImport = old })
	_, env := homeWithStore(t)
	p := filepath.Join(t.TempDir(), "in.env")
	if err := os.WriteFile(p, []byte("A=1\nB=2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	maxImport = 4
	var out, errb bytes.Buffer
	if code := run([]string{"import", p}, strings.NewReader(""), &out, &errb, env); code != exitError {
		t.Fatalf("exit %d, want %d: %s", code, exitError, errb.Bytes())
	}
	if !strings.Contains(errb.String(), p+": limit exceeded") {
		t.Errorf("stderr = %q, want it to name %s and the limit", errb.String(), p)
	}
}
