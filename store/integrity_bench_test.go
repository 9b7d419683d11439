package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store"
)

// BenchmarkIntegrity measures what the integrity check (Options.StateDir)
// costs: a first Get (open, decrypt, check, look up) with the check on and
// off, alternated in one loop so that both see the same machine load, and
// a cached Get with the check on and off. The state is in its steady
// state: the version read is the accepted one, seen before. x-nocheck is
// the ratio of the medians, on to off.
func BenchmarkIntegrity(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 10000} {
		path, id, _ := benchStore(b, n)
		probe := benchName(n / 2)
		state := filepath.Join(b.TempDir(), "state")
		withCheck := func() *store.File {
			f, err := store.Open(path, store.Options{Identities: []age.Identity{id}, StateDir: state})
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
		if _, err := withCheck().Get(ctx, probe); err != nil { // first use: the state is recorded
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("GetFirst/entries=%d", n), func(b *testing.B) {
			var on, off []time.Duration
			get := func(check bool) {
				f := open(b, path, id)
				if check {
					f = withCheck()
				}
				t0 := time.Now()
				if _, err := f.Get(ctx, probe); err != nil {
					b.Fatal(err)
				}
				if check {
					on = append(on, time.Since(t0))
				} else {
					off = append(off, time.Since(t0))
				}
			}
			i := 0
			for b.Loop() {
				i++ // alternate which goes first
				get(i%2 == 0)
				get(i%2 != 0)
			}
			b.ReportMetric(float64(median(off).Nanoseconds()), "nocheck-ns")
			b.ReportMetric(float64(median(on).Nanoseconds()), "check-ns")
			b.ReportMetric(float64(median(on))/float64(median(off)), "x-nocheck")
		})
		for _, check := range []bool{false, true} {
			b.Run(fmt.Sprintf("GetCached/check=%v/entries=%d", check, n), func(b *testing.B) {
				f := open(b, path, id)
				if check {
					f = withCheck()
				}
				if _, err := f.Get(ctx, probe); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := f.Get(ctx, probe); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
