package store_test

// Benchmarks of the file provider, each reported beside its floor: age
// decrypting the same file bytes (age.Decrypt and io.ReadAll), measured in
// the same benchmark right after the timed loop, so that both see the same
// machine load. "x-floor" is the ratio. Run with
//
//	go test -run '^$' -bench . ./store
//
// (make bench). Results and the machine they came from are in
// docs/BENCHMARKS.md.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/internal/lock"
)

var benchSizes = []int{10, 1000, 10000}

// benchStore makes a store of n entries shaped like real secrets (a name,
// a 40-byte token, a description on every tenth) in one write.
func benchStore(b *testing.B, n int) (path string, id *age.X25519Identity, raw []byte) {
	b.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	path = filepath.Join(b.TempDir(), "store.age")
	ctx := context.Background()
	f, err := store.Create(ctx, path, []string{id.Recipient().String()}, store.Options{Identities: []age.Identity{id}})
	if err != nil {
		b.Fatal(err)
	}
	err = f.Update(ctx, func(tx store.Tx) error {
		for i := range n {
			name := benchName(i)
			if err := tx.Set(name, []byte(fmt.Sprintf("tok_%036d", i))); err != nil {
				return err
			}
			if i%10 == 0 {
				if err := tx.SetDescription(name, "a description of "+name); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	raw, err = os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return path, id, raw
}

func benchName(i int) string { return fmt.Sprintf("SERVICE_%05d_API_TOKEN", i) }

func open(b *testing.B, path string, id age.Identity) *store.File {
	f, err := store.Open(path, store.Options{Identities: []age.Identity{id}})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// decryptFloor is the floor: age decrypting the file's bytes to the end.
func decryptFloor(b *testing.B, raw []byte, id age.Identity) {
	r, err := age.Decrypt(bytes.NewReader(raw), id)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadAll(r); err != nil {
		b.Fatal(err)
	}
}

// cpu returns the CPU time (user and system) used by the process so far.
// On a loaded machine it is steadier than the wall clock: time spent
// waiting for a CPU is not counted.
func cpu() time.Duration {
	var r syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// paired runs op in the benchmark loop and, with the timer stopped, the
// floor right after each op, so that both see the same machine load. It
// reports the ratio of the wall-clock medians (x-floor) and of the total
// CPU times (x-floor-cpu), the floor's median, and the cost per entry.
// Use it for operations of a millisecond or so.
func paired(b *testing.B, raw []byte, id age.Identity, n int, op func()) {
	var ops, floors []time.Duration
	var opCPU, floorCPU time.Duration
	for b.Loop() {
		c0, t0 := cpu(), time.Now()
		op()
		ops = append(ops, time.Since(t0))
		b.StopTimer()
		c1, t1 := cpu(), time.Now()
		opCPU += c1 - c0
		decryptFloor(b, raw, id)
		floors = append(floors, time.Since(t1))
		floorCPU += cpu() - c1
		b.StartTimer()
	}
	mo, mf := median(ops), median(floors)
	b.ReportMetric(float64(mo.Nanoseconds()), "median-ns")
	b.ReportMetric(float64(mf.Nanoseconds()), "floor-ns")
	b.ReportMetric(float64(mo)/float64(mf), "x-floor")
	b.ReportMetric(float64(opCPU.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(opCPU)/float64(floorCPU), "x-floor-cpu")
	b.ReportMetric(float64(mo.Nanoseconds())/float64(n), "ns/entry")
}

// unpaired runs a loop of fast operations, then reports their CPU time
// per op and, measured separately (median of at least 20 runs), the floor
// and the ratio to it.
func unpaired(b *testing.B, raw []byte, id age.Identity, n int, op func()) {
	c0 := cpu()
	for b.Loop() {
		op()
	}
	opCPU := (cpu() - c0) / time.Duration(b.N)
	perOp := b.Elapsed() / time.Duration(b.N)
	var floors []time.Duration
	for range 20 {
		t0 := time.Now()
		decryptFloor(b, raw, id)
		floors = append(floors, time.Since(t0))
	}
	mf := median(floors)
	b.ReportMetric(float64(opCPU.Nanoseconds()), "cpu-ns/op")
	b.ReportMetric(float64(mf.Nanoseconds()), "floor-ns")
	b.ReportMetric(float64(perOp)/float64(mf), "x-floor")
	b.ReportMetric(float64(perOp.Nanoseconds())/float64(n), "ns/entry")
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes {
		path, id, raw := benchStore(b, n)
		probe := benchName(n / 2)
		b.Run(fmt.Sprintf("Floor/entries=%d", n), func(b *testing.B) {
			for b.Loop() {
				decryptFloor(b, raw, id)
			}
			b.ReportMetric(float64(len(raw)), "file-bytes")
		})
		// A fresh *store.File each time: open, read, decrypt, decode, look up.
		b.Run(fmt.Sprintf("GetFirst/entries=%d", n), func(b *testing.B) {
			paired(b, raw, id, n, func() {
				if _, err := open(b, path, id).Get(ctx, probe); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(fmt.Sprintf("GetCached/entries=%d", n), func(b *testing.B) {
			f := open(b, path, id)
			if _, err := f.Get(ctx, probe); err != nil {
				b.Fatal(err)
			}
			unpaired(b, raw, id, n, func() {
				if _, err := f.Get(ctx, probe); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(fmt.Sprintf("ListFirst/entries=%d", n), func(b *testing.B) {
			paired(b, raw, id, n, func() {
				if es, err := open(b, path, id).List(ctx); err != nil || len(es) != n {
					b.Fatal(len(es), err)
				}
			})
		})
		b.Run(fmt.Sprintf("ListCached/entries=%d", n), func(b *testing.B) {
			f := open(b, path, id)
			unpaired(b, raw, id, n, func() {
				if es, err := f.List(ctx); err != nil || len(es) != n {
					b.Fatal(len(es), err)
				}
			})
		})
		// Set through a long-lived *store.File: lock, re-validate the
		// cache, encode, encrypt, write, fsync the file and the directory.
		b.Run(fmt.Sprintf("Set/entries=%d", n), func(b *testing.B) {
			f := open(b, path, id)
			i := 0
			paired(b, raw, id, n, func() {
				i++
				if err := f.Set(ctx, probe, []byte(strconv.Itoa(i))); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// childHandover takes the store's lock and says "held". On "go" from the
// parent (which then blocks on the lock) it waits a moment, prints the
// time and releases; on "next" (the parent has had the lock) it starts
// over. flock(2) is not fair: without the "next" step the child would
// take the lock straight back before the woken parent ran.
func childHandover(f *store.File) error {
	in := bufio.NewScanner(os.Stdin)
	for {
		l, err := lock.Acquire(context.Background(), f.LockPath())
		if err != nil {
			return err
		}
		fmt.Println("held")
		if !in.Scan() { // "go"
			return l.Unlock()
		}
		time.Sleep(2 * time.Millisecond) // the parent is blocked in flock by now
		fmt.Println(time.Now().UnixNano())
		if err := l.Unlock(); err != nil {
			return err
		}
		if !in.Scan() { // "next"
			return nil
		}
	}
}

// BenchmarkLockHandOver measures, between two processes, the time from
// the holder's release to the waiter's acquisition; the metric is the
// median (and 90th percentile) in microseconds.
func BenchmarkLockHandOver(b *testing.B) {
	path, id, _ := benchStore(b, 1)
	p := start(b, "handover", path, id.String())
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		p.expect(b, "held")
		fmt.Fprintln(p.stdin, "go")
		l, err := lock.Acquire(context.Background(), path+".lock")
		if err != nil {
			b.Fatal(err)
		}
		got := time.Now().UnixNano()
		if !p.stdout.Scan() {
			b.Fatalf("child died: %s", p.stderr)
		}
		released, err := strconv.ParseInt(p.stdout.Text(), 10, 64)
		if err != nil {
			b.Fatalf("child said %q", p.stdout.Text())
		}
		lat = append(lat, time.Duration(got-released))
		l.Unlock()
		fmt.Fprintln(p.stdin, "next")
	}
	p.stdin.Close()
	p.wait(b)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "median-us")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds()), "p90-us")
}

// BenchmarkWrite is one CLI write as the hush command does it, in
// process: open the store afresh (with the integrity check's state
// directory, as the CLI has), then one Set, Delete or rename, which
// decrypts, changes, encodes, encrypts, writes, fsyncs and renames. Run
// with -cpuprofile and -memprofile to see where a write's time goes
// (docs/ARCHITECTURE.md, "The write path"):
//
//	go test -run '^$' -bench 'Write/.*entries=100000' -benchtime 20x \
//	  -cpuprofile cpu.out -memprofile mem.out ./store
func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 100000} {
		path, id, raw := benchStore(b, n)
		state := b.TempDir()
		opts := store.Options{Identities: []age.Identity{id}, StateDir: state}
		probe := benchName(n / 2)
		reopen := func() *store.File {
			f, err := store.Open(path, opts)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
		b.Run(fmt.Sprintf("Set/entries=%d", n), func(b *testing.B) {
			i := 0
			paired(b, raw, id, n, func() {
				i++
				if err := reopen().Set(ctx, probe, []byte(strconv.Itoa(i))); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(fmt.Sprintf("Move/entries=%d", n), func(b *testing.B) {
			from, to := probe, probe+"_MOVED"
			paired(b, raw, id, n, func() {
				err := reopen().Update(ctx, func(tx store.Tx) error {
					v, err := tx.Get(from)
					if err != nil {
						return err
					}
					if err := tx.Set(to, v); err != nil {
						return err
					}
					return tx.Delete(from)
				})
				if err != nil {
					b.Fatal(err)
				}
				from, to = to, from
			})
		})
	}
}
