package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runHung: a child holds the store's lock through the library and is
// stopped with SIGSTOP. A `hush set --lock-timeout 1s` (half the rounds:
// HUSH_LOCK_TIMEOUT=1s) must fail with exit 6 no earlier than 1 s and no
// later than 1.5 s, print only a hush: diagnostic and leave the store
// byte-identical. Then a library waiter blocks on the lock, the holder is
// SIGKILLed, and the waiter must enter its critical section within 100 ms
// of the kill. Finally a fresh `hush set` must succeed.
func runHung(ctx context.Context, s *suite) error {
	const part = "hung"
	f, err := s.newFixture(ctx, "hung")
	if err != nil {
		return err
	}
	if r := f.run(ctx, []byte("before"), "set", "before"); r.code != 0 {
		return fmt.Errorf("hush set: %v: %s", r, r.stderr)
	}
	const timeout = time.Second
	var (
		timeouts, handovers, afterDurs []time.Duration
		wrongExit, tooSlow, tooEarly   int
		changed, badStderr, failedNext int
		examples                       []string
	)
	for round := 0; round < s.cfg.hungRounds; round++ {
		holder, err := s.startHolder(ctx, f, round)
		if err != nil {
			return err
		}
		holder.Process.Signal(syscall.SIGSTOP)
		before := hashFile(f.path)
		key := fmt.Sprintf("hung%d", round)
		var r result
		if round%2 == 0 {
			r = f.run(ctx, []byte("value"), "--lock-timeout", "1s", "set", key)
		} else {
			f.extra = []string{"HUSH_LOCK_TIMEOUT=1s"}
			r = f.run(ctx, []byte("value"), "set", key)
			f.extra = nil
		}
		timeouts = append(timeouts, r.dur)
		if r.code != 6 {
			wrongExit++
			examples = append(examples, fmt.Sprintf("round %d: %v, want exit 6: %q", round, r, r.stderr))
		}
		if r.dur > timeout+500*time.Millisecond+s.cfg.timingSlack {
			tooSlow++
		}
		if r.dur < timeout {
			tooEarly++
		}
		if hashFile(f.path) != before || len(f.strays()) != 0 {
			changed++
		}
		if len(r.stdout) != 0 || !bytes.HasPrefix(r.stderr, []byte("hush: ")) {
			badStderr++
		}

		// A library waiter queues on the lock; kill the stopped holder.
		waiter := s.childCmd(ctx, "waiter", envStore+"="+f.path, envIdentity+"="+f.idPath)
		var wout bytes.Buffer
		waiter.Stdout = &wout
		werr, _ := waiter.StderrPipe()
		if err := waiter.Start(); err != nil {
			return err
		}
		line, _ := bufio.NewReader(werr).ReadString('\n')
		if strings.TrimSpace(line) != "waiting" {
			return fmt.Errorf("waiter: %q", line)
		}
		time.Sleep(200 * time.Millisecond) // let it block in flock(2)
		killed := time.Now()
		holder.Process.Signal(syscall.SIGKILL)
		holder.Wait()
		if err := waiter.Wait(); err != nil {
			return fmt.Errorf("waiter: %v", err)
		}
		entered, err := strconv.ParseInt(strings.TrimSpace(wout.String()), 10, 64)
		if err != nil {
			return fmt.Errorf("waiter output %q", wout.String())
		}
		handovers = append(handovers, time.Unix(0, entered).Sub(killed))

		next := f.run(ctx, []byte("after"), "set", "after")
		afterDurs = append(afterDurs, next.dur)
		if next.code != 0 {
			failedNext++
			examples = append(examples, fmt.Sprintf("round %d: hush set after the kill: %v: %q", round, next, next.stderr))
		}
	}
	rep := s.rep
	rep.info(part, "rounds (holder SIGSTOPped, then SIGKILLed)", s.cfg.hungRounds)
	rep.equal(part, "waiting hush set not exiting 6", wrongExit, 0)
	rep.check(part, "timeout exit time max (lock timeout 1 s)", ms(percentile(timeouts, 100)),
		"<= "+ms(timeout+500*time.Millisecond+s.cfg.timingSlack), tooSlow == 0)
	rep.check(part, "timeout exit time min", ms(percentile(timeouts, 0)), ">= 1000 ms", tooEarly == 0)
	rep.equal(part, "store changed or stray files after the timeout", changed, 0)
	rep.equal(part, "timeouts with stdout or without a hush: diagnostic", badStderr, 0)
	handoverMax := 100*time.Millisecond + s.cfg.timingSlack
	rep.check(part, "handover after SIGKILL of the holder: max", ms(percentile(handovers, 100)),
		"< "+ms(handoverMax), percentile(handovers, 100) < handoverMax)
	rep.info(part, "handover p50", ms(percentile(handovers, 50)))
	rep.equal(part, "hush set failing after the holder was killed", failedNext, 0)
	rep.info(part, "hush set run time right after the kill, p50 / max", ms(percentile(afterDurs, 50))+" / "+ms(percentile(afterDurs, 100)))
	if len(examples) > 0 {
		rep.check(part, "first problems", joinMax(examples, 5), "none", false)
	}
	return nil
}

// startHolder starts a child that holds the lock, and waits until it does.
func (s *suite) startHolder(ctx context.Context, f *fixture, round int) (*exec.Cmd, error) {
	ready := filepath.Join(f.home, fmt.Sprintf("holder-ready-%d", round))
	cmd := s.childCmd(ctx, "holder", envStore+"="+f.path, envIdentity+"="+f.idPath, envReady+"="+ready)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			return cmd, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("lock holder never took the lock: %s", errb.Bytes())
		}
		time.Sleep(time.Millisecond)
	}
}
