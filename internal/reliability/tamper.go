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

// runTamper writes single-bit flips and truncations of real stores and
// runs `hush get --raw` on each. Every one must be refused with exit 5
// (cannot decrypt), print nothing on stdout and a hush: diagnostic on
// stderr. Three stores are swept:
//
//   - binary: a store of a few KiB holding ten secrets: a flip at every
//     byte offset (the bit chosen by the offset, so all eight positions
//     occur) and every truncation;
//   - armored: an ASCII-armored store: each of the eight bits of every byte
//     and every truncation (armor is text, so which bit matters);
//   - two-chunk: a binary store over 64 KiB, so its payload has two age
//     chunks (age releases a chunk's plaintext before it checks the next;
//     hush must read to the end first): every offset and length in the
//     header, the nonce, around the chunk boundary and at the end, and
//     every n-th one elsewhere.
//
// Length 0 is the exception: an empty file is "no store yet" to the store
// package (store.Open returns ErrNoStore; SPEC §3: an empty or missing
// file is an error with a hint everywhere but init), which hush maps to
// exit 1: there is nothing to decrypt. The sweep accepts exit 1 or 5 for
// length 0 and reports which one hush gives. age's armor decoder ignores
// whitespace around the armor by design, so a change there leaves the same
// authenticated file; such acceptances are counted apart and reported.
func runTamper(ctx context.Context, s *suite) error {
	const part = "tamper"
	step := max(s.cfg.tamperStep, 1)
	if s.cfg.tamperKiB > 0 {
		f, err := s.tamperFixture(ctx, "tamper", false, s.cfg.tamperKiB*1024, 10)
		if err != nil {
			return err
		}
		orig := mustRead(f.path)
		if err := sweepTamper(ctx, s, f, part, "binary", stride(0, len(orig), step), false); err != nil {
			return err
		}
	}
	if s.cfg.tamperArmor > 0 {
		a, err := s.tamperFixture(ctx, "tamper-armor", true, s.cfg.tamperArmor, 2)
		if err != nil {
			return err
		}
		orig := mustRead(a.path)
		if err := sweepTamper(ctx, s, a, part, "armored", stride(0, len(orig), step), true); err != nil {
			return err
		}
	}
	if s.cfg.tamperChunked > 0 {
		c, err := s.tamperFixture(ctx, "tamper-chunks", false, 66*1024, 2)
		if err != nil {
			return err
		}
		offs, err := chunkOffsets(mustRead(c.path), s.cfg.tamperChunked, step, s.cfg.tamperSparse)
		if err != nil {
			return err
		}
		if err := sweepTamper(ctx, s, c, part, "two-chunk", offs, false); err != nil {
			return err
		}
	}
	return nil
}

// tamperFixture makes a store of about size bytes holding the secret
// "small" and n-1 more.
func (s *suite) tamperFixture(ctx context.Context, name string, armor bool, size, n int) (*fixture, error) {
	f, err := s.newBareFixture(name)
	if err != nil {
		return nil, err
	}
	args := []string{"init", "-r", f.id.Recipient().String()}
	if armor {
		args = append(args, "--armor")
	}
	if r := f.run(ctx, nil, args...); r.code != 0 {
		return nil, fmt.Errorf("hush %s: %v: %s", strings.Join(args, " "), r, r.stderr)
	}
	if r := f.run(ctx, []byte("small value"), "set", "small"); r.code != 0 {
		return nil, fmt.Errorf("hush set: %v: %s", r, r.stderr)
	}
	for i := 1; i < n; i++ {
		fi, err := os.Stat(f.path)
		if err != nil {
			return nil, err
		}
		left := int(float64(size-int(fi.Size())-150) / float64(n-i))
		if armor {
			left = left * 3 / 4
		}
		if left <= 0 {
			break
		}
		if r := f.run(ctx, bytes.Repeat([]byte{byte('a' + i)}, left), "set", fmt.Sprintf("secret%d", i)); r.code != 0 {
			return nil, fmt.Errorf("hush set: %v: %s", r, r.stderr)
		}
	}
	return f, nil
}

// stride returns lo, lo+step, ... below hi.
func stride(lo, hi, step int) []int {
	var out []int
	for i := lo; i < hi; i += step {
		out = append(out, i)
	}
	return out
}

// chunkOffsets lists the offsets swept in a multi-chunk binary age file:
// every step-th one in the header, the payload nonce and the first window
// bytes of the payload, within window bytes of each chunk boundary, and in
// the last window bytes; and every sparse-th one elsewhere.
func chunkOffsets(b []byte, window, step, sparse int) ([]int, error) {
	hdr := bytes.Index(b, []byte("\n--- "))
	if hdr < 0 {
		return nil, fmt.Errorf("two-chunk store: no age header end")
	}
	e := bytes.IndexByte(b[hdr+1:], '\n')
	if e < 0 {
		return nil, fmt.Errorf("two-chunk store: no age header end")
	}
	payload := hdr + e + 2 + 16 // after the MAC line and the 16-byte nonce
	set := map[int]bool{}
	add := func(lo, hi, st int) {
		for _, i := range stride(max(lo, 0), min(hi, len(b)), st) {
			set[i] = true
		}
	}
	add(0, payload+window, step)
	const chunk = 64*1024 + 16
	for c := payload + chunk; c < len(b); c += chunk {
		add(c-window, c+window, step)
	}
	add(len(b)-window, len(b), step)
	add(0, len(b), max(sparse, 1))
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	sort.Ints(out)
	return out, nil
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

// sweepTamper flips a bit at each of offs (all eight bits if allBits) and
// truncates to each of offs (and to 0 and len-1), running hush get on each.
func sweepTamper(ctx context.Context, s *suite, f *fixture, part, kind string, offs []int, allBits bool) error {
	orig, err := os.ReadFile(f.path)
	if err != nil {
		return err
	}
	if r := f.run(ctx, nil, "get", "--raw", "small"); r.code != 0 || string(r.stdout) != "small value" {
		return fmt.Errorf("untampered %s store: hush get: %v: %q", kind, r, r.stderr)
	}
	var cases []tamperCase
	for _, off := range offs {
		bits := []int{off % 8}
		if allBits {
			bits = []int{0, 1, 2, 3, 4, 5, 6, 7}
		}
		for _, bit := range bits {
			cases = append(cases, tamperCase{what: fmt.Sprintf("flip bit %d of byte %d", bit, off), flip: true, n: off, bit: bit})
		}
	}
	lengths := map[int]bool{0: true, len(orig) - 1: true}
	for _, n := range offs {
		lengths[n] = true
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
