package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// part1Kill: a writer runs `hush set kN` (value vN on stdin) over and over;
// each process is SIGKILLed at a random moment of its life. A write is
// acknowledged only when hush exited 0 before the kill. After every
// process the store must decrypt (age directly, and `hush get`) to either
// the state before it or that state plus kN=vN: nothing acknowledged is
// ever lost and nothing else changes.
//
// The kill delay is uniform in [0, 1.2 x the median unkilled run time], so
// kills land in every phase: start-up, reading, waiting for the lock,
// encrypting, writing the temp file, fsync, rename, directory fsync, and
// some after exit (those are acknowledged writes).
func part1Kill(ctx context.Context, s *suite) error {
	const part = 1
	f, err := s.newFixture(ctx, "kill")
	if err != nil {
		return err
	}
	value := func(n int) []byte {
		// Long enough that the store grows to a few hundred KiB over a full
		// run, so writing and fsyncing it take a measurable time.
		return []byte(fmt.Sprintf("v%d-%s", n, strings.Repeat("x", 64)))
	}
	// Calibrate: the median run time of an unkilled `hush set`.
	var durs []time.Duration
	for i := 0; i < 9; i++ {
		r := f.run(ctx, value(-i), "set", fmt.Sprintf("calib%d", i))
		if r.code != 0 {
			return fmt.Errorf("calibration: hush set: %v: %s", r, r.stderr)
		}
		durs = append(durs, r.dur)
	}
	median := percentile(durs, 50)
	s.rep.info(part, "median unkilled `hush set` run time", ms(median))
	model, err := f.state()
	if err != nil {
		return err
	}
	acked := map[string]string{}
	for k, v := range model {
		acked[k] = v
	}
	var (
		killed, ackedN, oldState, newState, midWrite, failedExit int
		corrupt, lostAcks, neitherState, hushGetFail             int
		tempAfterAck, tempPlain                                  int
		examples                                                 []string
	)
	tempsSeen := map[string]bool{}
	for i := 0; i < s.cfg.kills; i++ {
		name := fmt.Sprintf("k%d", i)
		val := value(i)
		cmd, stdout, stderr := f.command(ctx, val, "set", name)
		delay := s.randDur(median * 12 / 10)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		timer := time.NewTimer(delay)
		var werr error
		select {
		case werr = <-done:
			timer.Stop()
		case <-timer.C:
			cmd.Process.Signal(syscall.SIGKILL)
			werr = <-done
		}
		r := f.finish(cmd, werr, start, stdout, stderr, []string{"set", name, "(kill after " + delay.String() + ")"})
		switch {
		case r.sig == syscall.SIGKILL:
			killed++
		case r.code == 0:
			ackedN++
			acked[name] = string(val)
		default:
			failedExit++
			examples = append(examples, fmt.Sprintf("%s: %v: %q", name, r, r.stderr))
		}
		// New temp files left by this process.
		var newTemps []string
		for _, n := range f.strays() {
			if isTempName(n) && !tempsSeen[n] {
				tempsSeen[n] = true
				newTemps = append(newTemps, n)
			}
		}
		if len(newTemps) > 0 {
			midWrite++
			if r.sig == 0 {
				tempAfterAck += len(newTemps)
			}
			for _, t := range newTemps {
				b, _ := os.ReadFile(filepath.Join(f.dir, t))
				if bytes.Contains(b, []byte("xxxxxxxx")) {
					tempPlain++
				}
			}
		}
		got, err := f.state()
		if err != nil {
			corrupt++
			examples = append(examples, fmt.Sprintf("after %s: age cannot decrypt: %v", name, err))
			// Keep a copy for the report, then stop: later checks are moot.
			os.WriteFile(filepath.Join(s.root, "corrupt-store.age"), mustRead(f.path), 0o600)
			break
		}
		withNew := maps.Clone(model)
		withNew[name] = string(val)
		switch {
		case maps.Equal(got, model):
			if r.code == 0 && r.sig == 0 {
				lostAcks++
				examples = append(examples, fmt.Sprintf("%s acknowledged but absent", name))
			} else {
				oldState++
			}
		case maps.Equal(got, withNew):
			if r.sig != 0 {
				newState++
			}
			model = withNew
		default:
			neitherState++
			examples = append(examples, fmt.Sprintf("after %s: state is neither old nor new (%d entries, want %d or %d)", name, len(got), len(model), len(withNew)))
			model = got
		}
		for k, v := range acked {
			if got[k] != v {
				lostAcks++
				examples = append(examples, fmt.Sprintf("after %s: acknowledged %s lost", name, k))
			}
		}
		// `hush get` of the key just written (or of the last acknowledged
		// one if this write did not land) must work too.
		probe := name
		if _, ok := got[name]; !ok {
			probe = fmt.Sprintf("calib%d", i%9)
		}
		gr := f.run(ctx, nil, "get", "--raw", probe)
		if gr.code != 0 || string(gr.stdout) != got[probe] {
			hushGetFail++
			examples = append(examples, fmt.Sprintf("after %s: hush get %s: %v: %q", name, probe, gr, gr.stderr))
		}
	}
	// Finally every acknowledged value through hush get.
	for k, v := range acked {
		gr := f.run(ctx, nil, "get", "--raw", k)
		if gr.code != 0 || string(gr.stdout) != v {
			lostAcks++
			examples = append(examples, fmt.Sprintf("final: hush get %s: %v", k, gr))
		}
	}
	strays := f.strays()
	var badStrays []string
	for _, n := range strays {
		fi, err := os.Stat(filepath.Join(f.dir, n))
		if !isTempName(n) || err != nil || fi.Mode().Perm() != 0o600 {
			badStrays = append(badStrays, n)
		}
	}
	rep := s.rep
	rep.info(part, "hush set processes started", s.cfg.kills)
	rep.info(part, "SIGKILLed before exiting", killed)
	rep.info(part, "  of which: store left in the old state", oldState)
	rep.info(part, "  of which: store already in the new state (killed after rename)", newState)
	rep.info(part, "  of which: killed mid-write (left a temp file)", midWrite)
	rep.info(part, "exited 0 before the kill (acknowledged)", ackedN)
	rep.equal(part, "exited non-zero without being killed", failedExit, 0)
	rep.equal(part, "corrupt stores (age cannot decrypt)", corrupt, 0)
	rep.equal(part, "lost acknowledged writes", lostAcks, 0)
	rep.equal(part, "states neither old nor new", neitherState, 0)
	rep.equal(part, "hush get failures on the store after a kill", hushGetFail, 0)
	rep.check(part, "stray temp files (all from SIGKILLed writers)", len(strays),
		"<= kills mid-write; only .store.age.tmp-* 0600", len(badStrays) == 0 && len(strays) <= midWrite)
	rep.equal(part, "temp files left by processes that were not killed", tempAfterAck, 0)
	rep.equal(part, "stray temp files holding plaintext", tempPlain, 0)
	if len(examples) > 0 {
		rep.check(part, "first problems", joinMax(examples, 5), "none", false)
	}
	return nil
}

func mustRead(p string) []byte {
	b, _ := os.ReadFile(p)
	return b
}
