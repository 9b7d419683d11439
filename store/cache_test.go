package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hush-secrets/hush/store"
)

// childTicker sets "tick" to 1, 2, ... n, each value the same size, and
// prints "ack N" once each Set has returned.
func childTicker(ctx context.Context, f *store.File, n int) error {
	for i := 1; i <= n; i++ {
		if err := f.Set(ctx, "tick", tickValue(i)); err != nil {
			return err
		}
		fmt.Printf("ack %d\n", i)
	}
	return nil
}

func tickValue(i int) []byte { return []byte(fmt.Sprintf("%08d", i)) }

// A long-lived *store.File reads in a tight loop while another process
// writes an increasing counter in a tight loop, every value the same size
// so that a replaced file differs from the cached one only in inode and
// times (and inode numbers are reused at once on ext4). No read may return
// a value older than one the writer had acknowledged before the read
// began, nor older than one read before; the final value must be seen. The
// reader pauses now and then, so that it misses versions and meets reused
// inode numbers.
func TestCacheNeverStaleAcrossProcesses(t *testing.T) {
	const n = 300
	ctx := context.Background()
	f, ident := newStore(t)
	if err := f.Set(ctx, "tick", tickValue(0)); err != nil {
		t.Fatal(err)
	}
	reader := openAs(t, f.Path(), ident)
	if _, err := reader.Get(ctx, "tick"); err != nil { // warm the cache
		t.Fatal(err)
	}
	p := start(t, "ticker", f.Path(), ident, envN+"="+strconv.Itoa(n))
	var acked atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p.stdout.Scan() {
			if v, ok := parseLine(p.stdout.Text(), "ack"); ok {
				acked.Store(int64(v))
			}
		}
	}()
	var (
		reads, last int
		inodes      = map[uint64]int{} // inode -> the last value read while it was at the path
		reused      int
		lastIno     uint64
		finished    bool
	)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	deadline := time.Now().Add(60 * time.Second)
	for !finished && time.Now().Before(deadline) {
		select {
		case <-done:
			finished = true // one more round: the final value must be read
		default:
		}
		if rng.IntN(100) == 0 {
			// Now and then miss a few versions: a cache keyed on the inode
			// alone is stale only when a reused inode comes back between
			// two reads.
			time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
		}
		floor := int(acked.Load())
		b, err := reader.Get(ctx, "tick")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := strconv.Atoi(string(b))
		reads++
		if v < floor {
			t.Fatalf("read %d after the writer had acknowledged %d: stale cache", v, floor)
		}
		if v < last {
			t.Fatalf("read %d after having read %d", v, last)
		}
		last = v
		if fi, err := os.Stat(f.Path()); err == nil {
			ino := fi.Sys().(*syscall.Stat_t).Ino
			if ino != lastIno {
				if old, ok := inodes[ino]; ok && old != v {
					reused++
				}
				inodes[ino], lastIno = v, ino
			}
		}
	}
	p.wait(t)
	if last != n {
		t.Fatalf("last read %d, want the final value %d", last, n)
	}
	t.Logf("%d reads during %d writes; the store's inode number was reused %d times", reads, n, reused)
}

// A write through one *store.File is seen at once by another in the same
// process, although the first has the old document cached; the same for a
// delete, and for a write of a same-size value.
func TestCacheSeesOtherFileAtOnce(t *testing.T) {
	ctx := context.Background()
	f, ident := newStore(t)
	other := openAs(t, f.Path(), ident)
	for i := range 20 {
		v := tickValue(i)
		if err := other.Set(ctx, "k", v); err != nil {
			t.Fatal(err)
		}
		if got, err := f.Get(ctx, "k"); err != nil || string(got) != string(v) {
			t.Fatalf("after the other File set %s: %q, %v", v, got, err)
		}
		es, err := f.List(ctx)
		if err != nil || len(es) != 1 {
			t.Fatalf("List = %v, %v", es, err)
		}
	}
	if err := other.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the other File deleted k: %v", err)
	}
}

// Every write gives the store a modification time later than the one it
// replaces, even when the clock is behind the old file's time (a clock
// stepped back, or two writes within one tick of a coarse file-system
// clock): with inode numbers reused, (inode, size, mtime) must never
// repeat, or a cache keyed on it could serve an older version.
func TestModTimeAlwaysAdvances(t *testing.T) {
	ctx := context.Background()
	f, ident := newStore(t)
	if err := f.Set(ctx, "k", tickValue(0)); err != nil {
		t.Fatal(err)
	}
	ahead := time.Now().Add(time.Hour)
	if err := os.Chtimes(f.Path(), time.Time{}, ahead); err != nil {
		t.Fatal(err)
	}
	reader := openAs(t, f.Path(), ident)
	last := ahead
	for i := 1; i <= 5; i++ {
		if v, err := reader.Get(ctx, "k"); err != nil || string(v) != string(tickValue(i-1)) {
			t.Fatalf("Get = %q, %v; want %s", v, err, tickValue(i-1))
		}
		if err := f.Set(ctx, "k", tickValue(i)); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(f.Path())
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().After(last) {
			t.Fatalf("write %d: mtime %v, not after the replaced store's %v", i, fi.ModTime(), last)
		}
		last = fi.ModTime()
	}
}
