package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkImport runs `hush import` in-process of a dotenv file of
// 1,000, 10,000 and 100,000 entries into an empty store, each run a
// first import (a fresh copy of the empty store, no accepted state), as
// the import row of scripts/bench-cli.sh times it as a whole process.
func BenchmarkImport(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchImport(b, n) })
	}
}

func benchImport(b *testing.B, n int) {
	home := b.TempDir()
	env := []string{"HOME=" + home, "XDG_STATE_HOME=" + filepath.Join(home, "state")}
	if code := run([]string{"-q", "--store", filepath.Join(home, "empty.age"), "init"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, env); code != 0 {
		b.Fatal("init failed")
	}
	empty, err := os.ReadFile(filepath.Join(home, "empty.age"))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(21, 21))
	var seed bytes.Buffer
	for i := range n {
		fmt.Fprintf(&seed, "SECRET_%06d=%016x%016x\n", i, rng.Uint64(), rng.Uint64())
	}
	p := filepath.Join(home, "seed.env")
	if err := os.WriteFile(p, seed.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	st := filepath.Join(home, "store.age")
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if err := os.RemoveAll(filepath.Join(home, "state")); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(st, empty, 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var errb bytes.Buffer
		if code := run([]string{"-q", "--store", st, "import", p}, strings.NewReader(""), &bytes.Buffer{}, &errb, env); code != 0 {
			b.Fatalf("import: %s", errb.Bytes())
		}
	}
}
