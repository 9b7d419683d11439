package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runKill: a writer runs `hush set kN` (value vN on stdin) over and over;
// each process is SIGKILLed at a random moment of its life. A write is
// acknowledged only when hush exited 0 before the kill. After every
// process the store must decrypt (age directly, and `hush get`) to either
// the state before it or that state plus kN=vN: nothing acknowledged is
// ever lost and nothing else changes.
//
// Half the kills come at a random moment of the whole run (uniform in
// [0, 1.2 x the median unkilled run time]): start-up, reading, waiting for
// the lock, encrypting, writing, fsync, rename, directory fsync, and some
// after exit (those are acknowledged writes). The other half are aimed at
// the write: inotify reports the first change in the store's directory
// (the temp file appearing) and the kill follows at a random moment of the
// write window (1.2 x its calibrated median). A 256 KiB secret makes each
// write long enough to be hit, and a long write(2) can itself be cut
// short by SIGKILL.
func runKill(ctx context.Context, s *suite) error {
	const part = "kill"
	f, err := s.newFixture(ctx, "kill")
	if err != nil {
		return err
	}
	value := func(n int) []byte {
		// Long enough that the store grows to a few hundred KiB over a full
		// run, so writing and fsyncing it take a measurable time.
		return []byte(fmt.Sprintf("v%d-%s", n, strings.Repeat("x", 64)))
	}
	// A large secret makes every write a few hundred KiB, so writing and
	// fsyncing the temp file take long enough to be hit (the kernel may
	// also cut a large write short on SIGKILL).
	if r := f.run(ctx, bytes.Repeat([]byte("ballast-"), 32<<10), "set", "ballast"); r.code != 0 {
		return fmt.Errorf("hush set: %v: %s", r, r.stderr)
	}
	w, err := watchDir(f.dir)
	if err != nil {
		return err
	}
	defer w.Close()
	// Calibrate: the median run time of an unkilled `hush set`, and of its
	// write window (first change in the directory to exit).
	median, window, err := w.calibrate(9, func(i int) (result, error) {
		return f.run(ctx, value(-i), "set", fmt.Sprintf("calib%d", i)), nil
	})
	if err != nil {
		return err
	}
	s.rep.info(part, "median unkilled `hush set` run time / write window", ms(median)+" / "+ms(window))
	model, err := f.state()
	if err != nil {
		return err
	}
	acked := map[string]string{}
	for k, v := range model {
		acked[k] = v
	}
	var (
		killed, ackedN, oldState, newState, midWrite, failedExit  int
		corrupt, lostAcks, neitherState, hushGetFail, killedAimed int
		tempAfterAck, tempPlain                                   int
		examples                                                  []string
	)
	tempsSeen := map[string]bool{}
	for i := 0; i < s.cfg.kills; i++ {
		name := fmt.Sprintf("k%d", i)
		val := value(i)
		// Even rounds: a random moment of the whole run. Odd rounds: aimed
		// at the write, a random moment of the write window after the
		// first change appears in the store's directory.
		aimed := i%2 == 1
		cmd, stdout, stderr := f.command(ctx, val, "set", name)
		w.drain()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var (
			werr  error
			delay time.Duration
		)
		if aimed {
			select {
			case werr = <-done:
			case <-w.events:
				delay = s.randDur(window * 12 / 10)
				werr = killAfter(cmd, done, delay)
			}
		} else {
			delay = s.randDur(median * 12 / 10)
			werr = killAfter(cmd, done, delay)
		}
		mode := "random"
		if aimed {
			mode = "aimed"
		}
		r := f.finish(cmd, werr, start, stdout, stderr, []string{"set", name, "(" + mode + " kill after " + delay.String() + ")"})
		switch {
		case r.sig == syscall.SIGKILL:
			killed++
			if aimed {
				killedAimed++
			}
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
				if bytes.Contains(b, []byte("xxxxxxxx")) || bytes.Contains(b, []byte("ballast-ballast-")) {
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
	// One more write: hush removes the strays of killed writers while it
	// holds the lock (no live writer can own a temp file then).
	if r := f.run(ctx, []byte("final"), "set", "final"); r.code != 0 {
		return fmt.Errorf("final hush set: %v: %s", r, r.stderr)
	}
	afterFinal := f.strays()
	rep := s.rep
	rep.info(part, "hush set processes started", s.cfg.kills)
	rep.info(part, "SIGKILLed before exiting (of which aimed at the write window)", fmt.Sprintf("%d (%d)", killed, killedAimed))
	rep.info(part, "  of which: store left in the old state", oldState)
	rep.info(part, "  of which: store already in the new state (killed after rename)", newState)
	rep.info(part, "  of which: killed mid-write (left a temp file)", midWrite)
	rep.info(part, "exited 0 before the kill (acknowledged)", ackedN)
	rep.equal(part, "exited non-zero without being killed", failedExit, 0)
	rep.equal(part, "corrupt stores (age cannot decrypt)", corrupt, 0)
	rep.equal(part, "lost acknowledged writes", lostAcks, 0)
	rep.equal(part, "states neither old nor new", neitherState, 0)
	rep.equal(part, "hush get failures on the store after a kill", hushGetFail, 0)
	rep.check(part, "stray temp files at the end (all from SIGKILLed writers)", len(strays),
		"<= kills mid-write; only .store.age.tmp-* 0600", len(badStrays) == 0 && len(strays) <= midWrite)
	rep.equal(part, "stray files after one more successful write", len(afterFinal), 0)
	rep.equal(part, "temp files left by processes that were not killed", tempAfterAck, 0)
	rep.equal(part, "stray temp files holding plaintext", tempPlain, 0)
	if len(examples) > 0 {
		rep.check(part, "first problems", joinMax(examples, 5), "none", false)
	}
	return nil
}

// killAfter SIGKILLs cmd after delay unless it exits first (done), and
// returns Wait's error.
func killAfter(cmd *exec.Cmd, done chan error, delay time.Duration) error {
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		cmd.Process.Signal(syscall.SIGKILL)
		return <-done
	}
}

func mustRead(p string) []byte {
	b, _ := os.ReadFile(p)
	return b
}
