package store_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store"
)

// childCrash waits for "go N" on stdin, then sets numbered keys from N on,
// printing "begin N" before each Set and "ack N" once it has returned.
func childCrash(ctx context.Context, f *store.File, _ int) error {
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() {
		return nil // the parent is done with us
	}
	n, err := strconv.Atoi(strings.TrimPrefix(in.Text(), "go "))
	if err != nil {
		return err
	}
	for ; ; n++ {
		fmt.Printf("begin %d\n", n)
		if err := f.Set(ctx, crashKey(n), crashValue(n)); err != nil {
			return err
		}
		fmt.Printf("ack %d\n", n)
	}
}

// The writer cycles through a few keys, so the store stays small and each
// kill is cheap to check: a value is superseded only by a later Set of the
// same key.
const crashSlots = 16

func crashKey(n int) string   { return fmt.Sprintf("slot%02d", n%crashSlots) }
func crashValue(n int) []byte { return []byte(fmt.Sprintf("value %d\x00\n", n)) }

func parseValue(b []byte) (int, bool) {
	s, ok := strings.CutPrefix(string(b), "value ")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "\x00\n")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func parseLine(s, verb string) (int, bool) {
	v, ok := strings.CutPrefix(s, verb+" ")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// A writer process is killed with SIGKILL at random moments, at least 300
// times. After each kill the store decrypts, both through the store and
// with age itself; for every key, the value is the last Set the writer
// acknowledged or the one it had in flight, never an older one and never
// a torn one; and at most one temp file is left: one a killed writer was
// filling (a kill cannot clean up; the next write removes it, so strays
// never pile up; clean failures are TestWriteFaults). Children are started
// a few ahead, so process start-up costs little. HUSH_LONG=1 kills 3000 times.
func TestCrashKill9(t *testing.T) {
	kills := 300
	if os.Getenv("HUSH_LONG") == "1" {
		kills = 3000
	}
	f, ident := newStore(t)
	id, err := age.ParseX25519Identity(ident)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))

	var (
		prevStrays                 []string
		last                       [crashSlots]int // per key, the last acknowledged number (-1: none)
		next                       int             // the first number not yet begun
		inSet, tempLeft, committed int             // where the kills landed
		noBegin, sets              int
		perSet                     = 10 * time.Millisecond // running mean time per Set
		started                    = time.Now()
	)
	for i := range last {
		last[i] = -1
	}
	var inRun, inCheck, inStart time.Duration
	// Children are started a few ahead, so that their start-up overlaps
	// the runs and checks of those before them.
	const ahead = 3
	var queue []*proc
	for range ahead {
		queue = append(queue, start(t, "crash", f.Path(), ident))
	}
	for k := 0; k < kills; k++ {
		cur := queue[0]
		queue = append(queue[1:], start(t, "crash", f.Path(), ident))
		t0 := time.Now()
		cur.expect(t, "ready")
		inStart += time.Since(t0)
		lines := make(chan string, 1024)
		go func(s *bufio.Scanner) {
			for s.Scan() {
				lines <- s.Text()
			}
			close(lines)
		}(cur.stdout)
		fmt.Fprintf(cur.stdin, "go %d\n", next)
		goAt := time.Now()
		// Kill somewhere within about one and a half Sets of the go,
		// uniformly: most kills land inside the first Set, at any step.
		wait := time.Duration(rng.Int64N(int64(3 * perSet / 2)))
		if d := time.Until(goAt.Add(wait)); d > 0 {
			time.Sleep(d)
		}
		cur.cmd.Process.Signal(syscall.SIGKILL)
		cur.cmd.Wait()
		ran := time.Since(goAt)
		inRun += ran
		checkAt := time.Now()

		began, inflight, nacks := -1, -1, 0
		for l := range lines {
			if n, ok := parseLine(l, "begin"); ok {
				began, inflight = n, n
			} else if n, ok := parseLine(l, "ack"); ok {
				last[n%crashSlots] = n
				inflight = -1
				nacks++
			}
		}
		sets += nacks
		if nacks > 0 {
			perSet = (perSet*7 + ran/time.Duration(nacks)) / 8
		}
		switch {
		case began < 0:
			noBegin++
		default:
			next = began + 1
		}
		if inflight >= 0 {
			inSet++
		}

		// The store must decrypt with age itself, to the end.
		raw, err := os.ReadFile(f.Path())
		if err != nil {
			t.Fatalf("kill %d: %v", k, err)
		}
		r, err := age.Decrypt(bytes.NewReader(raw), id)
		if err == nil {
			_, err = io.ReadAll(r)
		}
		if err != nil {
			t.Fatalf("kill %d: age cannot decrypt the store: %v", k, err)
		}
		// And through the store, with every acknowledged Set in place.
		fresh := openAs(t, f.Path(), ident)
		es, err := fresh.List(ctx)
		if err != nil {
			t.Fatalf("kill %d: the store cannot be read: %v", k, err)
		}
		present := 0
		for slot, want := range last {
			b, err := fresh.Get(ctx, crashKey(slot))
			if errors.Is(err, store.ErrNotFound) && want < 0 {
				continue // never acknowledged; a Set in flight did not make it
			}
			if err != nil {
				t.Fatalf("kill %d: acknowledged Set %d lost: %v", k, want, err)
			}
			present++
			got, ok := parseValue(b)
			switch {
			case !ok:
				t.Fatalf("kill %d: torn value %q", k, b)
			case got == inflight && inflight >= 0:
				committed++
			case got != want:
				t.Fatalf("kill %d: key %s holds Set %d, want the acknowledged %d (in flight: %d)", k, crashKey(slot), got, want, inflight)
			}
		}
		if len(es) != present {
			t.Fatalf("kill %d: %d entries, want %d", k, len(es), present)
		}
		// A kill between creating the temp file and the rename leaves it
		// behind; the next write removes it, so strays never pile up.
		s := strays(t, f.Path())
		if len(s) > 1 {
			t.Fatalf("kill %d: temp files %v left", k, s)
		}
		if len(s) == 1 && inflight >= 0 && !slices.Contains(prevStrays, s[0]) {
			tempLeft++
		}
		prevStrays = s
		if inflight >= 0 {
			// Whether it made it or not, a later Set of the key decides.
			if b, err := fresh.Get(ctx, crashKey(inflight)); err == nil {
				if got, _ := parseValue(b); got == inflight {
					last[inflight%crashSlots] = inflight
				}
			}
		}
		inCheck += time.Since(checkAt)
	}
	for _, p := range queue {
		p.stdin.Close()
		p.wait(t)
	}
	t.Logf("%d kills in %v (waiting for start-up %v, running %v, checking %v): %d Sets acknowledged; %d kills inside a Set (%d of those after it had committed, %d left a temp file), %d before the first Set began",
		kills, time.Since(started).Round(time.Millisecond), inStart.Round(time.Millisecond), inRun.Round(time.Millisecond), inCheck.Round(time.Millisecond),
		sets, inSet, committed, tempLeft, noBegin)
	if inSet < kills/4 {
		t.Errorf("only %d of %d kills landed inside a Set; the test is not exercising the write path", inSet, kills)
	}
}
