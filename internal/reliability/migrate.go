package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Names of the migrate part: bare keys MIGP_kNNN move into scope "mig".
const (
	migPrefix = "MIGP_"
	migScope  = "mig"
	migRule   = migPrefix + "=" + migScope
)

func migNew(old string) string { return "__hush_" + migScope + "_" + old }

// runMigrate: `hush migrate apply --rule MIGP_=mig` over migKeys keys is
// SIGKILLed at a random moment (half the time aimed at its writes, after
// inotify shows the first change in the store's directory), migKills times, each time from the initial
// store (and half the time killed once more during the rerun). While it
// runs, a reader decrypts the store in a loop; after each kill every secret
// must be readable by its old name or its new one, in the file and through
// `hush get NAME` / `hush get --scope mig NAME`. A rerun must converge: every
// key moved, nothing else touched, the migration recorded, and a further
// run must change nothing.
func runMigrate(ctx context.Context, s *suite) error {
	const part = "migrate"
	f, err := s.newFixture(ctx, "migrate")
	if err != nil {
		return err
	}
	want := map[string]string{} // old name -> value
	var env bytes.Buffer
	for i := 0; i < s.cfg.migKeys; i++ {
		k := fmt.Sprintf("%sk%03d", migPrefix, i)
		want[k] = fmt.Sprintf("mig-value-%d-%s", i, strings.Repeat("m", 40))
		fmt.Fprintf(&env, "%s=%s\n", k, want[k])
	}
	env.WriteString("OTHER_a=untouched-a\nOTHER_b=untouched-b\n")
	if r := f.run(ctx, env.Bytes(), "import", "--format", "dotenv", "-"); r.code != 0 {
		return fmt.Errorf("hush import: %v: %s", r, r.stderr)
	}
	initial, err := os.ReadFile(f.path)
	if err != nil {
		return err
	}
	restore := func() error { return os.WriteFile(f.path, initial, 0o600) }
	apply := []string{"migrate", "apply", "--rule", migRule}

	w, err := watchDir(f.dir)
	if err != nil {
		return err
	}
	defer w.Close()
	median, window, err := w.calibrate(5, func(int) (result, error) {
		if err := restore(); err != nil {
			return result{}, err
		}
		return f.run(ctx, nil, apply...), nil
	})
	if err != nil {
		return err
	}
	s.rep.info(part, "median unkilled migrate apply run time / write window", ms(median)+" / "+ms(window))

	var (
		kills, unreadable, cliUnreadable, notConverged, rerunWrote int
		readerReads, readerBad                                     atomic.Int64
		fallbackOK, fallbackTried                                  int
		byState                                                    = map[string]int{}
		examples                                                   []string
		mu                                                         sync.Mutex
	)
	check := func(when string) {
		st, err := f.state()
		if err != nil {
			unreadable++
			examples = append(examples, when+": store does not decrypt: "+err.Error())
			return
		}
		byState[classifyMig(st, want)]++
		if bad := missingSecrets(st, want); len(bad) > 0 {
			unreadable += len(bad)
			examples = append(examples, fmt.Sprintf("%s: unreadable %s", when, joinMax(bad, 3)))
		}
		// Through the CLI: a few keys, by old name or scoped name.
		for j := 0; j < 4; j++ {
			k := fmt.Sprintf("%sk%03d", migPrefix, s.randN(s.cfg.migKeys))
			_, bare := st[k]
			_, moved := st[migNew(k)]
			old := f.run(ctx, nil, "get", "--raw", k)
			scoped := f.run(ctx, nil, "--scope", migScope, "get", "--raw", k)
			if bare && !moved {
				fallbackTried++
				if scoped.code == 0 && string(scoped.stdout) == want[k] {
					fallbackOK++
				}
			}
			if !(old.code == 0 && string(old.stdout) == want[k]) && !(scoped.code == 0 && string(scoped.stdout) == want[k]) {
				cliUnreadable++
				examples = append(examples, fmt.Sprintf("%s: hush get %s: %v, --scope: %v", when, k, old, scoped))
			}
		}
	}
	for i := 0; i < s.cfg.migKills; i++ {
		if err := restore(); err != nil {
			return err
		}
		rounds := 1 + s.randN(2)
		for round := 0; round < rounds; round++ {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // a reader, all the while
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					st, err := f.state()
					readerReads.Add(1)
					if err != nil || len(missingSecrets(st, want)) > 0 {
						readerBad.Add(1)
						mu.Lock()
						examples = append(examples, fmt.Sprintf("reader during kill %d: %v", i, err))
						mu.Unlock()
					}
				}
			}()
			// Half the kills at a random moment of the run, half aimed
			// at the writes (after the first change in the directory).
			var r result
			if (i+round)%2 == 0 {
				r = s.runKilled(ctx, f, nil, s.randDur(median*12/10), apply...)
			} else {
				r = s.runKilled(ctx, f, w, s.randDur(window*12/10), apply...)
			}
			close(stop)
			wg.Wait()
			if r.sig == syscall.SIGKILL {
				kills++
			}
			mu.Lock()
			check(fmt.Sprintf("after kill %d.%d", i, round))
			mu.Unlock()
		}
		r := f.run(ctx, nil, apply...)
		st, err := f.state()
		if r.code != 0 || err != nil || !converged(st, want) {
			notConverged++
			examples = append(examples, fmt.Sprintf("rerun %d: %v: %q", i, r, firstLine(r.stderr)))
			continue
		}
		before := hashFile(f.path)
		again := f.run(ctx, nil, apply...)
		if again.code != 0 || hashFile(f.path) != before {
			rerunWrote++
		}
	}
	// The converged state through the CLI.
	for k, v := range want {
		if r := f.run(ctx, nil, "--scope", migScope, "get", "--raw", k); r.code != 0 || string(r.stdout) != v {
			notConverged++
			examples = append(examples, fmt.Sprintf("final: hush get --scope %s %s: %v", migScope, k, r))
			break
		}
	}
	rep := s.rep
	rep.info(part, "keys moved by the migration", s.cfg.migKeys)
	rep.info(part, "killed applies (SIGKILL landed before exit)", kills)
	rep.info(part, "state after each killed run: initial / copied / done / other",
		fmt.Sprintf("%d / %d / %d / %d", byState["initial"], byState["copied"], byState["done"], byState["other"]))
	rep.equal(part, "secrets unreadable after a kill (store file)", unreadable, 0)
	rep.equal(part, "secrets unreadable after a kill (hush get NAME and --scope)", cliUnreadable, 0)
	rep.check(part, "concurrent reads missing a secret", fmt.Sprintf("%d of %d", readerBad.Load(), readerReads.Load()), "0", readerBad.Load() == 0)
	rep.equal(part, "reruns not converging to the end state", notConverged, 0)
	rep.equal(part, "further run after convergence writing", rerunWrote, 0)
	rep.info(part, "temp files left by killed applies", len(f.strays()))
	rep.info(part, "`hush get --scope mig NAME` of a key not yet copied (fallback)", fmt.Sprintf("%d of %d served", fallbackOK, fallbackTried))
	if len(examples) > 0 {
		rep.check(part, "first problems", joinMax(examples, 5), "none", false)
	}
	return nil
}

// runKilled starts hush and SIGKILLs it after delay unless it exits first.
// With a watch, the delay counts from the first change in the watched
// directory.
func (s *suite) runKilled(ctx context.Context, f *fixture, w *dirWatch, delay time.Duration, args ...string) result {
	cmd, stdout, stderr := f.command(ctx, nil, args...)
	if w != nil {
		w.drain()
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{code: -1, err: err}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	if w == nil {
		err = killAfter(cmd, done, delay)
	} else {
		select {
		case err = <-done:
		case <-w.events:
			err = killAfter(cmd, done, delay)
		}
	}
	what := fmt.Sprintf("(kill %v after start)", delay)
	if w != nil {
		what = fmt.Sprintf("(kill %v after the first write)", delay)
	}
	return f.finish(cmd, err, start, stdout, stderr, append(args, what))
}

// missingSecrets lists the keys of want readable neither by their old name
// nor their new one with the right value.
func missingSecrets(st, want map[string]string) []string {
	var bad []string
	for k, v := range want {
		if st[k] != v && st[migNew(k)] != v {
			bad = append(bad, k)
		}
	}
	return bad
}

// converged reports whether st is the migration's end state.
func converged(st, want map[string]string) bool {
	end := map[string]string{"OTHER_a": "untouched-a", "OTHER_b": "untouched-b"}
	for k, v := range want {
		end[migNew(k)] = v
	}
	rec := 0
	for k := range st {
		if strings.HasPrefix(k, "__hush_migrate_") {
			rec++
		}
	}
	got := maps.Clone(st)
	maps.DeleteFunc(got, func(k, _ string) bool { return strings.HasPrefix(k, "__hush_migrate_") })
	return rec == 1 && maps.Equal(got, end)
}

// classifyMig names the state of the store during the migration.
func classifyMig(st, want map[string]string) string {
	old, moved := 0, 0
	for k := range want {
		if _, ok := st[k]; ok {
			old++
		}
		if _, ok := st[migNew(k)]; ok {
			moved++
		}
	}
	switch {
	case old == len(want) && moved == 0:
		return "initial"
	case old == len(want) && moved == len(want):
		return "copied"
	case old == 0 && moved == len(want):
		return "done"
	}
	return "other"
}
