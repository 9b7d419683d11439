package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// part6Tamper writes every single-bit flip (one per byte offset, the bit
// chosen by the offset so all eight bit positions are covered) and every
// truncation of a real store, and runs `hush get --raw` on each. Every one
// must be refused with exit 5 (cannot decrypt), print nothing on stdout and
// a hush: diagnostic on stderr.
//
// Length 0 is the exception: an empty file is "no store yet" to the store
// package (store.Open returns ErrNoStore, docs: an empty or missing file is
// an error with a hint everywhere but init), which hush maps to exit 1; it
// is not a decryption failure because there is nothing to decrypt. The
// sweep accepts exit 1 or 5 for length 0 and reports which one hush gives.
//
// The binary store is larger than 64 KiB so its payload has two age chunks
// (age releases a chunk's plaintext before it has checked the next one;
// hush must read to the end first). A smaller ASCII-armored store is swept
// too.
func part6Tamper(ctx context.Context, s *suite) error {
	const part = 6
	f, err := s.newFixture(ctx, "tamper")
	if err != nil {
		return err
	}
	if r := f.run(ctx, []byte("small value"), "set", "small"); r.code != 0 {
		return fmt.Errorf("hush set: %v: %s", r, r.stderr)
	}
	if n := s.cfg.tamperKiB*1024 - 600; n > 0 {
		if r := f.run(ctx, bytes.Repeat([]byte("t"), n), "set", "big"); r.code != 0 {
			return fmt.Errorf("hush set: %v: %s", r, r.stderr)
		}
	}
	if err := sweepTamper(ctx, s, f, part, "binary", false); err != nil {
		return err
	}
	if s.cfg.tamperArmor <= 0 {
		return nil
	}
	a, err := s.newBareFixture("tamper-armor")
	if err != nil {
		return err
	}
	if r := a.run(ctx, nil, "init", "--armor", "-r", a.id.Recipient().String()); r.code != 0 {
		return fmt.Errorf("hush init --armor: %v: %s", r, r.stderr)
	}
	if r := a.run(ctx, []byte("small value"), "set", "small"); r.code != 0 {
		return fmt.Errorf("hush set: %v: %s", r, r.stderr)
	}
	if n := (s.cfg.tamperArmor - 700) * 3 / 4; n > 0 {
		if r := a.run(ctx, bytes.Repeat([]byte("t"), n), "set", "big"); r.code != 0 {
			return fmt.Errorf("hush set: %v: %s", r, r.stderr)
		}
	}
	return sweepTamper(ctx, s, a, part, "armored", true)
}

// tamperCase is one modified store file.
type tamperCase struct {
	what string // "flip bit 3 of byte 123" or "truncate to 45 bytes"
	flip bool   // flip bit of byte n, else truncate to n bytes
	n    int
	bit  int
}

// bytes returns the modified file, reusing buf.
func (c tamperCase) bytes(orig, buf []byte) []byte {
	if !c.flip {
		return orig[:c.n]
	}
	buf = append(buf[:0], orig...)
	buf[c.n] ^= 1 << c.bit
	return buf
}

// sweepTamper runs every case over f's store. allBits flips each of the
// eight bits of every byte instead of one.
func sweepTamper(ctx context.Context, s *suite, f *fixture, part int, kind string, allBits bool) error {
	orig, err := os.ReadFile(f.path)
	if err != nil {
		return err
	}
	if r := f.run(ctx, nil, "get", "--raw", "small"); r.code != 0 || string(r.stdout) != "small value" {
		return fmt.Errorf("untampered %s store: hush get: %v: %q", kind, r, r.stderr)
	}
	step := max(s.cfg.tamperStep, 1)
	var cases []tamperCase
	for off := 0; off < len(orig); off += step {
		bits := []int{off % 8}
		if allBits {
			bits = []int{0, 1, 2, 3, 4, 5, 6, 7}
		}
		for _, bit := range bits {
			cases = append(cases, tamperCase{what: fmt.Sprintf("flip bit %d of byte %d", bit, off), flip: true, n: off, bit: bit})
		}
	}
	lengths := map[int]bool{0: true, len(orig) - 1: true}
	for n := 0; n < len(orig); n += step {
		lengths[n] = true
	}
	// With a step, still cut at the interesting places: the header's end,
	// the nonce, chunk boundaries and the last tag.
	hdr := bytes.Index(orig, []byte("\n--- "))
	if hdr >= 0 {
		if e := bytes.IndexByte(orig[hdr+1:], '\n'); e >= 0 {
			for _, n := range []int{hdr + 1, hdr + e + 2, hdr + e + 2 + 16, hdr + e + 2 + 16 + 65536 + 16, len(orig) - 16, len(orig) - 17} {
				for d := -1; d <= 1; d++ {
					if n+d >= 0 && n+d < len(orig) {
						lengths[n+d] = true
					}
				}
			}
		}
	}
	var ls []int
	for n := range lengths {
		ls = append(ls, n)
	}
	sort.Ints(ls)
	for _, n := range ls {
		cases = append(cases, tamperCase{what: fmt.Sprintf("truncate to %d bytes", n), n: n})
	}

	var (
		mu                           sync.Mutex
		refused, wrong, withOut, bad int
		whitespace                   int
		wsExamples                   []string
		zeroCode                     = -2
		examples                     []string
	)
	work := make(chan tamperCase)
	var wg sync.WaitGroup
	for w := 0; w < max(s.cfg.workers, 1); w++ {
		wf := *f
		wf.dir = filepath.Join(filepath.Dir(f.dir), fmt.Sprintf("%s-worker%d", kind, w))
		wf.path = filepath.Join(wf.dir, "store.age")
		if err := os.MkdirAll(wf.dir, 0o700); err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for c := range work {
				data := c.bytes(orig, buf)
				if c.flip {
					buf = data // never alias orig: truncations return orig[:n]
				}
				zero := !c.flip && c.n == 0
				if err := os.WriteFile(wf.path, data, 0o600); err != nil {
					mu.Lock()
					bad++
					examples = append(examples, c.what+": "+err.Error())
					mu.Unlock()
					continue
				}
				r := wf.run(ctx, nil, "get", "--raw", "small")
				mu.Lock()
				ok := r.code == 5 || (zero && r.code == 1)
				if zero {
					zeroCode = r.code
				}
				switch {
				case !ok && r.code == 0 && string(r.stdout) == "small value" && whitespaceOnly(orig, data):
					whitespace++
					wsExamples = append(wsExamples, c.what)
				case !ok:
					wrong++
					examples = append(examples, fmt.Sprintf("%s: %v, stdout %d bytes: %q", c.what, r, len(r.stdout), firstLine(r.stderr)))
				case len(r.stdout) > 0:
					withOut++
					examples = append(examples, fmt.Sprintf("%s: stdout not empty", c.what))
				case !bytes.HasPrefix(r.stderr, []byte("hush: ")):
					bad++
					examples = append(examples, fmt.Sprintf("%s: stderr %q", c.what, firstLine(r.stderr)))
				default:
					refused++
				}
				mu.Unlock()
			}
		}()
	}
	for _, c := range cases {
		work <- c
	}
	close(work)
	wg.Wait()
	rep := s.rep
	total := len(cases)
	rep.info(part, kind+" store: size in bytes", len(orig))
	rep.info(part, kind+" store: tampered files tried (flips + truncations)", total)
	rep.check(part, kind+" store: refused with exit 5, no stdout (length 0: exit 1 or 5)",
		fmt.Sprintf("%d of %d (%.2f%%)", refused, total, 100*float64(refused)/float64(max(total, 1))),
		"100% (less whitespace-only changes)", refused+whitespace == total)
	if kind == "armored" || whitespace > 0 {
		rep.info(part, kind+" store: accepted, only whitespace around the armor changed (age ignores it; same authenticated plaintext)",
			fmt.Sprintf("%d: %s", whitespace, joinMax(wsExamples, 4)))
	}
	rep.equal(part, kind+" store: accepted or wrong exit code", wrong, 0)
	rep.equal(part, kind+" store: refused but printed to stdout", withOut, 0)
	rep.equal(part, kind+" store: refused without a hush: diagnostic", bad, 0)
	rep.info(part, kind+" store: exit code for the empty file", zeroCode)
	if len(examples) > 0 {
		rep.check(part, kind+" store: first problems", joinMax(examples, 5), "none", false)
	}
	return nil
}

// whitespaceOnly reports whether a and b differ only in leading or
// trailing ASCII whitespace, which age's armor decoder skips by design.
func whitespaceOnly(a, b []byte) bool {
	return !bytes.Equal(a, b) && bytes.Equal(bytes.TrimSpace(a), bytes.TrimSpace(b))
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}
