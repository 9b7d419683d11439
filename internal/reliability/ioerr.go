package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// runIOErr fails the syscalls of `hush set`'s write path with strace's fault
// injection (-e inject=SYSCALL:error=ERRNO:when=N), for N = 1, 2, ... until
// the command no longer reaches an N-th call, and then fills the disk with
// `ulimit -f`. Every run must either fail cleanly (non-zero exit, a hush:
// diagnostic, the store byte-identical, no temp file) or, when the fault
// hit after the rename (the directory fsync), leave the complete new state;
// and a run without the fault must then succeed.
//
// strace counts calls per syscall and per thread, so at a given N the N-th
// call of every thread fails; looping N until nothing is injected still
// fails every call at least once. The trace (-y shows paths) says which
// file each injected call was on; the coverage rows check that the temp
// file's write and fsync, the rename and the directory fsync were hit.
func runIOErr(ctx context.Context, s *suite) error {
	const part = "ioerr"
	strace, err := exec.LookPath("strace")
	if err == nil {
		err = exec.CommandContext(ctx, strace, "-o", "/dev/null", "true").Run()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "\n*** reliability: ioerr: the syscall faults are SKIPPED: strace is missing or cannot trace here (%v).\n"+
			"*** Install it (apt-get install -y strace; scripts/reliability.sh does) and rerun.\n\n", err)
		s.rep.check(part, "SKIPPED: strace missing or not permitted", err, "strace installed", true)
		return ulimitSweep(ctx, s)
	}
	f, err := s.newFixture(ctx, "ioerr")
	if err != nil {
		return err
	}
	// A store of a few KiB, so the temp file takes more than one write.
	if r := f.run(ctx, bytes.Repeat([]byte("payload "), 1024), "set", "payload"); r.code != 0 {
		return fmt.Errorf("hush set: %v: %s", r, r.stderr)
	}

	// Which syscalls does the write path make? strace -f -c.
	sum := filepath.Join(f.home, "strace-c.txt")
	cmd, _, stderr := f.command(ctx, []byte("probe"), "set", "probe")
	cmd.Path, cmd.Args = strace, append([]string{strace, "-f", "-c", "-o", sum, f.s.hush}, "set", "probe")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("strace -c hush set: %v: %s", err, stderr.Bytes())
	}
	counts := straceSummary(mustRead(sum))
	var seen []string
	for _, sc := range []string{"write", "pwrite64", "writev", "fsync", "fdatasync", "sync_file_range", "rename", "renameat", "renameat2", "openat", "close", "flock"} {
		if counts[sc] > 0 {
			seen = append(seen, fmt.Sprintf("%s x%d", sc, counts[sc]))
		}
	}
	s.rep.info(part, "syscalls of one hush set (strace -f -c)", strings.Join(seen, ", "))

	var targets []string
	for _, sc := range []string{"write", "pwrite64", "writev", "fsync", "fdatasync", "rename", "renameat", "renameat2", "openat", "close", "flock"} {
		if counts[sc] > 0 {
			targets = append(targets, sc)
		}
	}
	// Two passes per syscall: every call of the process, and (pinned with
	// -P) only the calls on the store, its lock file and its directory, so
	// a call there is failed on its own even when another thread's call of
	// the same number would have failed first.
	pins := []string{f.dir, f.path, f.path + ".lock"}
	for _, errno := range s.cfg.ioErrnos {
		st := &ioStats{hits: map[string]int{}}
		for _, pin := range [][]string{nil, pins} {
			for _, sc := range targets {
				for n := 1; n <= s.cfg.ioMax; n++ {
					reached, err := injectOnce(ctx, s, f, st, strace, sc, errno, n, pin)
					if err != nil {
						return err
					}
					if !reached {
						break
					}
					if n == s.cfg.ioMax {
						st.capped = append(st.capped, sc)
					}
				}
			}
		}
		st.report(s.rep, part, errno)
	}
	return ulimitSweep(ctx, s)
}

// ioStats tallies the injected runs of one errno.
type ioStats struct {
	runs, exit0, clean, postRename       int
	notClean, corrupt, temps, recoverBad int
	hits                                 map[string]int // target -> injected runs
	postWhat                             []string       // targets of post-rename failures
	capped                               []string
	examples                             []string
}

func (st *ioStats) report(rep *report, part, errno string) {
	rep.info(part, errno+": injected runs", st.runs)
	rep.info(part, errno+": failed cleanly (non-zero, store byte-identical)", st.clean)
	rep.info(part, errno+": failed after the rename (non-zero, complete new state)", fmt.Sprintf("%d (%s)", st.postRename, strings.Join(st.postWhat, ", ")))
	rep.info(part, errno+": fault outside the write path, exit 0 with the new state", st.exit0)
	rep.equal(part, errno+": runs not failing cleanly", st.notClean, 0)
	rep.equal(part, errno+": corrupt stores", st.corrupt, 0)
	rep.equal(part, errno+": temp files left", st.temps, 0)
	rep.equal(part, errno+": fault-free rerun failing", st.recoverBad, 0)
	for _, t := range []string{"write temp file", "fsync temp file", "rename over the store", "fsync store directory"} {
		rep.check(part, errno+": runs that failed "+t, st.hits[t], ">= 1", st.hits[t] >= 1)
	}
	var other []string
	for t, n := range st.hits {
		if !slicesContains([]string{"write temp file", "fsync temp file", "rename over the store", "fsync store directory"}, t) {
			other = append(other, fmt.Sprintf("%s x%d", t, n))
		}
	}
	sort.Strings(other)
	rep.info(part, errno+": other injected calls", strings.Join(other, ", "))
	if len(st.capped) > 0 {
		rep.info(part, errno+": syscalls still reached at -io-max", strings.Join(st.capped, ","))
	}
	if len(st.examples) > 0 {
		rep.check(part, errno+": first problems", joinMax(st.examples, 5), "none", false)
	}
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// injectOnce runs one `hush set` with the n-th call of sc failing with
// errno, checks the outcome, and reports whether the fault was injected.
// With pin, only calls on those paths are traced, counted and failed.
func injectOnce(ctx context.Context, s *suite, f *fixture, st *ioStats, strace, sc, errno string, n int, pin []string) (bool, error) {
	before := hashFile(f.path)
	model, err := f.state()
	if err != nil {
		return false, fmt.Errorf("store unreadable before injection: %v", err)
	}
	key := fmt.Sprintf("io_%s_%s_%d_%d", errno, sc, n, len(pin))
	val := []byte("value of " + key)
	logPath := filepath.Join(f.home, "strace.log")
	os.Remove(logPath)
	args := []string{strace, "-f", "-qq", "-y", "-e", "signal=none", "-o", logPath}
	for _, p := range pin {
		args = append(args, "-P", p)
	}
	args = append(args, "-e", "trace="+sc+",rename,renameat,renameat2",
		"-e", fmt.Sprintf("inject=%s:error=%s:when=%d", sc, errno, n),
		s.hush, "set", key)
	cmd, stdout, stderr := f.command(ctx, val, "set", key)
	cmd.Path, cmd.Args = strace, args
	start := time.Now()
	err = cmd.Run()
	how := "(strace inject " + sc + ":" + errno + ":when=" + fmt.Sprint(n)
	if pin != nil {
		how += ", pinned"
	}
	r := f.finish(cmd, err, start, stdout, stderr, []string{"set", key, how + ")"})
	injected, afterRename := parseInjected(mustRead(logPath), f)
	if len(injected) == 0 {
		// Not reached: the run must simply have succeeded.
		if r.code != 0 {
			st.examples = append(st.examples, fmt.Sprintf("%s when=%d: no injection but %v: %q", sc, n, r, r.stderr))
			st.notClean++
		}
		return false, nil
	}
	st.runs++
	// A failed write to stderr is the diagnostic itself failing (strace's
	// when= counts per thread, so another thread's first write can be the
	// one that prints "hush: ..."): then only the exit code can tell.
	runtimeOnly, diagLost := true, false
	for _, t := range injected {
		st.hits[t]++
		if !strings.HasPrefix(t, "other") {
			runtimeOnly = false
		}
		if t == "other write stderr" {
			diagLost = true
		}
	}
	what := fmt.Sprintf("%s:%s when=%d pinned=%v (%s)", sc, errno, n, pin != nil, strings.Join(injected, ", "))
	got, derr := f.state()
	withNew := maps.Clone(model)
	withNew[key] = string(val)
	switch {
	case derr != nil:
		st.corrupt++
		st.examples = append(st.examples, what+": store does not decrypt: "+derr.Error())
	case r.code == 0:
		if maps.Equal(got, withNew) {
			st.exit0++
		} else {
			st.notClean++
			st.examples = append(st.examples, what+": exit 0 without the new state")
		}
	case hashFile(f.path) == before:
		if !runtimeOnly && !diagLost && (!bytes.HasPrefix(r.stderr, []byte("hush: ")) || len(r.stdout) != 0) {
			st.notClean++
			st.examples = append(st.examples, fmt.Sprintf("%s: %v without a hush: diagnostic: %q", what, r, r.stderr))
		} else {
			st.clean++
		}
	case afterRename && maps.Equal(got, withNew):
		st.postRename++
		st.postWhat = append(st.postWhat, strings.Join(injected, "+"))
	default:
		st.notClean++
		st.examples = append(st.examples, fmt.Sprintf("%s: %v and the store changed", what, r))
	}
	if tmp := f.strays(); len(tmp) > 0 {
		st.temps += len(tmp)
		st.examples = append(st.examples, what+": left "+strings.Join(tmp, ","))
		for _, t := range tmp {
			os.Remove(filepath.Join(f.dir, t))
		}
	}
	// The fault is gone: the same write must now succeed.
	rr := f.run(ctx, val, "set", key)
	if got, err := f.state(); rr.code != 0 || err != nil || got[key] != string(val) {
		st.recoverBad++
		st.examples = append(st.examples, fmt.Sprintf("%s: fault-free rerun: %v: %q", what, rr, rr.stderr))
	}
	return true, nil
}

var (
	procPID = regexp.MustCompile(`^/proc/\d+/`)
	atCWD   = regexp.MustCompile(`AT_FDCWD<[^>]*>`)
)

var straceLine = regexp.MustCompile(`^\d+\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()`)

// parseInjected reads an strace -y log and names the target of every
// injected call; afterRename reports whether an injection came after a
// successful rename of the temp file over the store.
func parseInjected(log []byte, f *fixture) (targets []string, afterRename bool) {
	pending := map[string]string{} // pid -> unfinished line
	renamed := false
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		pid, _, _ := strings.Cut(line, " ")
		if strings.HasSuffix(line, "<unfinished ...>") {
			pending[pid] = line
			continue
		}
		if strings.Contains(line, " resumed>") {
			line = pending[pid] + line
			delete(pending, pid)
		}
		m := straceLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := m[2]
		if name == "" {
			name = m[1]
		}
		isRename := strings.HasPrefix(name, "rename")
		if isRename && strings.Contains(line, "= 0") && strings.Contains(line, ".store.age.tmp-") {
			renamed = true
		}
		if !strings.Contains(line, "(INJECTED)") {
			continue
		}
		targets = append(targets, classify(name, line, f))
		if renamed {
			afterRename = true
		}
	}
	return targets, afterRename
}

// classify names what an injected call was doing.
func classify(name, line string, f *fixture) string {
	switch {
	case strings.HasPrefix(name, "rename") && strings.Contains(line, ".store.age.tmp-"):
		return "rename over the store"
	case strings.Contains(line, ".store.age.tmp-"):
		switch name {
		case "write", "pwrite64", "writev":
			return "write temp file"
		case "fsync", "fdatasync":
			return "fsync temp file"
		default:
			return name + " temp file"
		}
	case (name == "fsync" || name == "fdatasync") && strings.Contains(line, "<"+f.dir+">"):
		return "fsync store directory"
	case strings.Contains(line, "<"+f.dir+">") || strings.Contains(line, `"`+f.dir+`"`):
		return name + " store directory"
	case strings.Contains(line, "store.age.lock"):
		return name + " lock file"
	case strings.Contains(line, f.path):
		return name + " store file"
	case strings.Contains(line, f.idPath):
		return name + " identity file"
	}
	// Standard streams, the runtime's pipes and eventfds, the dynamic
	// loader's libraries, /proc and /sys files: name the first path.
	if (name == "write" || name == "writev") && strings.Contains(line, "(2<") {
		return "other " + name + " stderr"
	}
	what := ""
	line = atCWD.ReplaceAllString(line, "AT_FDCWD") // -y shows the cwd there
	if i := strings.Index(line, "("); i >= 0 {
		args := line[i+1:]
		if j := strings.IndexAny(args, "<\""); j >= 0 {
			rest := args[j+1:]
			if k := strings.IndexAny(rest, ">\""); k >= 0 {
				what = rest[:k]
			}
		}
	}
	switch {
	case strings.HasPrefix(what, "pipe:"):
		what = "pipe"
	case strings.HasPrefix(what, f.s.root):
		what = "suite:" + strings.TrimPrefix(what, f.s.root)
	case what == "":
		what = "?"
	}
	what = procPID.ReplaceAllString(what, "/proc/PID/")
	return "other " + name + " " + what
}

// straceSummary parses strace -c output into calls per syscall.
func straceSummary(b []byte) map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		fs := strings.Fields(line)
		if len(fs) < 5 || strings.HasPrefix(line, "%") || strings.HasPrefix(line, "-") {
			continue
		}
		name := fs[len(fs)-1]
		var calls int
		// columns: %time seconds usecs/call calls [errors] syscall
		if _, err := fmt.Sscan(fs[3], &calls); err == nil && name != "total" {
			out[name] = calls
		}
	}
	return out
}
