package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ulimitSweep is the disk-full half of the ioerr part: `hush set` runs under
// `ulimit -f K` (the file size limit, in KiB) for K from 0 up to just under
// the store's size, with SIGXFSZ ignored (trap "" XFSZ) so the write fails
// with EFBIG as on a full disk. Every run must fail cleanly and a run
// without the limit must then succeed. One more run without the trap shows
// what happens when SIGXFSZ kills hush (reported, not a guarantee: it is a
// kill like SIGKILL and may leave a temp file).
func ulimitSweep(ctx context.Context, s *suite) error {
	const part = "ioerr"
	bash, err := exec.LookPath("bash")
	if err != nil {
		s.rep.check(part, "ulimit -f: SKIPPED, no bash", err, "bash installed", true)
		return nil
	}
	f, err := s.newFixture(ctx, "ulimit")
	if err != nil {
		return err
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	if r := f.run(ctx, big, "set", "big"); r.code != 0 {
		return fmt.Errorf("hush set: %v: %s", r, r.stderr)
	}
	fi, err := os.Stat(f.path)
	if err != nil {
		return err
	}
	sizeKiB := int(fi.Size() / 1024)
	limits := []int{0, 1, 2, 4, 8, 16, 32, sizeKiB - 1}
	var runs, bad, temps, recoverBad int
	var examples []string
	for _, k := range limits {
		if k < 0 || k >= sizeKiB {
			continue
		}
		runs++
		key := fmt.Sprintf("ulimit%d", k)
		before := hashFile(f.path)
		r := f.runShell(ctx, []byte("v"), `trap "" XFSZ; ulimit -f `+fmt.Sprint(k)+`; exec "$0" "$@"`, bash, "set", key)
		switch {
		case r.code <= 0:
			bad++
			examples = append(examples, fmt.Sprintf("ulimit -f %d: %v", k, r))
		case hashFile(f.path) != before:
			bad++
			examples = append(examples, fmt.Sprintf("ulimit -f %d: store changed", k))
		case !bytes.HasPrefix(r.stderr, []byte("hush: ")) || len(r.stdout) > 0:
			bad++
			examples = append(examples, fmt.Sprintf("ulimit -f %d: stderr %q", k, r.stderr))
		}
		if st := f.strays(); len(st) > 0 {
			temps += len(st)
			examples = append(examples, fmt.Sprintf("ulimit -f %d: left %s", k, strings.Join(st, ",")))
			for _, t := range st {
				os.Remove(filepath.Join(f.dir, t))
			}
		}
		if rr := f.run(ctx, []byte("v"), "set", key); rr.code != 0 {
			recoverBad++
			examples = append(examples, fmt.Sprintf("ulimit -f %d: rerun without limit: %v: %q", k, rr, rr.stderr))
		}
	}
	rep := s.rep
	rep.info(part, fmt.Sprintf("ulimit -f: limits tried (KiB; store is %d KiB)", sizeKiB), fmt.Sprint(limits))
	rep.check(part, "ulimit -f (SIGXFSZ ignored): runs not failing cleanly", fmt.Sprintf("%d of %d", bad, runs), "0", bad == 0 && runs > 0)
	rep.equal(part, "ulimit -f: temp files left", temps, 0)
	rep.equal(part, "ulimit -f: rerun without the limit failing", recoverBad, 0)

	// Without the trap SIGXFSZ terminates hush mid-write.
	before := hashFile(f.path)
	r := f.runShell(ctx, []byte("v"), `ulimit -f 1; exec "$0" "$@"`, bash, "set", "xfsz")
	st, derr := f.state()
	left := f.strays()
	rep.info(part, "ulimit -f 1 with SIGXFSZ not ignored", fmt.Sprintf("%v; store %s; %d temp file(s) left",
		r, map[bool]string{true: "byte-identical", false: "CHANGED"}[hashFile(f.path) == before], len(left)))
	rep.check(part, "ulimit -f with SIGXFSZ: store still decrypts", derr == nil && st["big"] == string(big), "yes", derr == nil && st["big"] == string(big))
	for _, t := range left {
		os.Remove(filepath.Join(f.dir, t))
	}
	if len(examples) > 0 {
		rep.check(part, "ulimit -f: first problems", joinMax(examples, 5), "none", false)
	}
	return nil
}

// runShell runs hush through `bash -c script hush args...`; script must
// end by exec'ing "$0" "$@".
func (f *fixture) runShell(ctx context.Context, stdin []byte, script, bash string, args ...string) result {
	cmd, stdout, stderr := f.command(ctx, stdin, args...)
	cmd.Path = bash
	cmd.Args = append([]string{"bash", "-c", script, f.s.hush}, args...)
	start := time.Now()
	err := cmd.Run()
	return f.finish(cmd, err, start, stdout, stderr, append([]string{"(bash -c " + script + ")"}, args...))
}
