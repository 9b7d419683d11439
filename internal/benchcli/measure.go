package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"syscall"
	"time"
)

// sample is one timed run of a command as a whole process.
type sample struct {
	wall time.Duration // from just before start to the end of wait4
	cpu  time.Duration // user + system of the child and the children it reaped
	rss  int64         // peak resident set size in bytes, wait4's ru_maxrss
}

// job is one command to time. prepare, if set, runs untimed before every
// run (copying the store the command starts from); after, if set, runs
// untimed after every successful run.
type job struct {
	name    string
	argv    []string
	env     []string // nil: benchcli's own environment
	stdin   []byte   // nil: /dev/null
	stdout  io.Writer
	prepare func() error
	after   func() error
}

// once runs j once and returns its sample; it returns an error naming the
// command when prepare, the command (a non-zero exit) or after fails.
func (j job) once() (sample, error) {
	if j.prepare != nil {
		if err := j.prepare(); err != nil {
			return sample{}, fmt.Errorf("%s: before the run: %w", j.name, err)
		}
	}
	cmd := exec.Command(j.argv[0], j.argv[1:]...)
	cmd.Env = j.env
	if j.stdin != nil {
		cmd.Stdin = bytes.NewReader(j.stdin)
	}
	cmd.Stdout = j.stdout
	if cmd.Stdout == nil {
		cmd.Stdout = io.Discard
	}
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return sample{}, fmt.Errorf("%s: %v: %w", j.name, j.argv, err)
	}
	s := sample{wall: time.Since(start)}
	st := cmd.ProcessState
	s.cpu = st.UserTime() + st.SystemTime()
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		s.rss = int64(ru.Maxrss)
		if runtime.GOOS != "darwin" { // Linux and the BSDs count KiB
			s.rss *= 1024
		}
	}
	if j.after != nil {
		if err := j.after(); err != nil {
			return sample{}, fmt.Errorf("%s: after the run: %w", j.name, err)
		}
	}
	return s, nil
}

// alternate runs a and b one after the other, runs times each, after one
// untimed warm-up of each, so both see the same machine load; it returns
// the timed samples of each, or the first failure.
func alternate(runs int, a, b job) (sa, sb []sample, err error) {
	for r := -1; r < runs; r++ { // r == -1 warms both up
		x, err := a.once()
		if err != nil {
			return nil, nil, err
		}
		y, err := b.once()
		if err != nil {
			return nil, nil, err
		}
		if r >= 0 {
			sa, sb = append(sa, x), append(sb, y)
		}
	}
	return sa, sb, nil
}

// summary is what the tables print of a command's samples.
type summary struct {
	wall, cpu time.Duration // medians
	rss       int64         // the largest peak RSS of any run
}

// summarize returns the medians of s (the upper one of an even count) and
// the largest RSS; s must not be empty.
func summarize(s []sample) summary {
	w := make([]time.Duration, len(s))
	c := make([]time.Duration, len(s))
	var rss int64
	for i, x := range s {
		w[i], c[i] = x.wall, x.cpu
		rss = max(rss, x.rss)
	}
	slices.Sort(w)
	slices.Sort(c)
	return summary{wall: w[len(w)/2], cpu: c[len(c)/2], rss: rss}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
