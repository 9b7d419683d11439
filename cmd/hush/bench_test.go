package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkGet runs `hush get` in-process on a 1,000-entry store: what a
// hush process does after start-up (scripts/bench-cli.sh measures whole
// processes against age -d).
func BenchmarkGet(b *testing.B) {
	home := b.TempDir()
	env := []string{"HOME=" + home}
	if code := run([]string{"-q", "init"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, env); code != 0 {
		b.Fatal("init failed")
	}
	var seed strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&seed, "SECRET_%04d=value-%d-%064d\n", i, i, i)
	}
	p := filepath.Join(home, "seed.env")
	if err := os.WriteFile(p, []byte(seed.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	if code := run([]string{"-q", "import", p}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, env); code != 0 {
		b.Fatal("import failed")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var out, errb bytes.Buffer
		if code := run([]string{"get", "SECRET_0500"}, strings.NewReader(""), &out, &errb, env); code != 0 {
			b.Fatalf("get: %s", errb.Bytes())
		}
	}
}
