package migrate

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store"
)

// BenchmarkApply moves n keys of an n-entry file store into a scope, as
// `hush migrate apply` does (a fresh *store.File on a fresh copy of the
// store each time, with the integrity check's state directory), so that a
// CPU profile of the migration's own work is one command away:
//
//	go test -run '^$' -bench Apply/keys=10000 -benchtime 20x -cpuprofile cpu.out ./migrate
//
// The copy of the store before each run is not timed.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			id, err := age.GenerateX25519Identity()
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			opts := store.Options{Identities: []age.Identity{id}, StateDir: filepath.Join(dir, "state")}
			seedPath := filepath.Join(dir, "seed.age")
			f, err := store.Create(ctx, seedPath, []string{id.Recipient().String()}, opts)
			if err != nil {
				b.Fatal(err)
			}
			err = f.Update(ctx, func(tx store.Tx) error {
				for i := range n {
					if err := tx.Set(fmt.Sprintf("SECRET_%06d", i), fmt.Appendf(nil, "%032x", i*7919)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			data, err := os.ReadFile(seedPath)
			if err != nil {
				b.Fatal(err)
			}
			m := Migration{Rules: []Rule{{Prefix: "SECRET_", Scope: "bench"}}}
			path := filepath.Join(dir, "store.age")
			var cpu time.Duration // user and system CPU of the whole process during Apply
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				os.RemoveAll(filepath.Join(dir, "state"))
				if err := os.WriteFile(path+".new", data, 0o600); err != nil {
					b.Fatal(err)
				}
				if err := os.Rename(path+".new", path); err != nil {
					b.Fatal(err)
				}
				p, err := store.Open(path, opts)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				before := cpuTime()
				rep, err := m.Apply(ctx, p)
				cpu += cpuTime() - before
				if err != nil || len(rep.Moved) != n || !rep.Recorded {
					b.Fatalf("Apply: moved %d, recorded %v, %v", len(rep.Moved), rep.Recorded, err)
				}
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
