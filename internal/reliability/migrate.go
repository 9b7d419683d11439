package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
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

// migKind says how key i of the migrate part starts: one in ten has a new
// key that already holds another value (a clash: the program's value), one
// in ten a new key that already holds the same value, the rest no new key.
func migKind(i int) string {
	switch i % 10 {
	case 3:
		return "clash"
	case 7:
		return "same"
	}
	return "plain"
}

// runMigrate: `hush migrate apply --rule MIGP_=mig` over migKeys keys, some
// of whose new keys already exist (migKind), is SIGKILLed at a random
// moment (half the time aimed at its writes, after inotify shows the first
// change in the store's directory), migKills times, each time from the
// initial store (and half the time killed once more during the rerun).
// While it runs, a reader decrypts the store in a loop; after each kill
// every value must still be there: each old key's value by its old name or
// its new one, in the file and through `hush get NAME` / `hush get --scope
// mig NAME`, and each clashing new key's own value under the new key. A
// rerun must converge: it exits 4 and reports every clash (and no other
// key), every other key is moved, both keys of each clash are kept,
// nothing else is touched, no record is written, and a further run changes
// nothing. At the end the clashes are settled (half keeping the person's
// value, half the program's) and apply runs once more: it completes and
// records the migration.
func runMigrate(ctx context.Context, s *suite) error {
	const part = "migrate"
	f, err := s.newFixture(ctx, "migrate")
	if err != nil {
		return err
	}
	want := map[string]string{}  // old name -> value
	clash := map[string]string{} // old name -> the other value its new key holds
	var env, scoped bytes.Buffer
	for i := 0; i < s.cfg.migKeys; i++ {
		k := fmt.Sprintf("%sk%03d", migPrefix, i)
		want[k] = fmt.Sprintf("mig-value-%d-%s", i, strings.Repeat("m", 40))
		fmt.Fprintf(&env, "%s=%s\n", k, want[k])
		switch migKind(i) {
		case "clash":
			clash[k] = fmt.Sprintf("program-value-%d", i)
			fmt.Fprintf(&scoped, "%s=%s\n", k, clash[k])
		case "same":
			fmt.Fprintf(&scoped, "%s=%s\n", k, want[k])
		}
	}
	env.WriteString("OTHER_a=untouched-a\nOTHER_b=untouched-b\n")
	if r := f.run(ctx, env.Bytes(), "import", "--format", "dotenv", "-"); r.code != 0 {
		return fmt.Errorf("hush import: %v: %s", r, r.stderr)
	}
	if scoped.Len() > 0 {
		if r := f.run(ctx, scoped.Bytes(), "--scope", migScope, "import", "--format", "dotenv", "-"); r.code != 0 {
			return fmt.Errorf("hush --scope %s import: %v: %s", migScope, r, r.stderr)
		}
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
		r := f.run(ctx, nil, apply...)
		if len(clash) > 0 && r.code == 4 { // the clashes: a refusal
			r.code = 0
		}
		return r, nil
	})
	if err != nil {
		return err
	}
	s.rep.info(part, "median unkilled migrate apply run time / write window", ms(median)+" / "+ms(window))

	var (
		kills, unreadable, cliUnreadable, notConverged, rerunWrote int
		clashLost, misreported, recordedWithClash                  int
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
		byState[classifyMig(st, want, clash)]++
		if bad := lostClashes(st, clash); len(bad) > 0 {
			clashLost += len(bad)
			examples = append(examples, fmt.Sprintf("%s: clashing new key lost its value: %s", when, joinMax(bad, 3)))
		}
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
					if err != nil || len(missingSecrets(st, want)) > 0 || len(lostClashes(st, clash)) > 0 {
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
		wantCode := 0
		if len(clash) > 0 {
			wantCode = 4
		}
		if r.code != wantCode || err != nil || !converged(st, want, clash, len(clash) == 0) {
			notConverged++
			examples = append(examples, fmt.Sprintf("rerun %d: %v: %q", i, r, firstLine(r.stderr)))
			continue
		}
		if reported := clashesReported(r.stdout); !maps.Equal(reported, keysOf(clash)) {
			misreported++
			examples = append(examples, fmt.Sprintf("rerun %d: clashes reported %v, want %v", i, joinMax(sortedKeys(reported), 3), joinMax(sortedKeys(clash), 3)))
		}
		before := hashFile(f.path)
		again := f.run(ctx, nil, apply...)
		if again.code != wantCode || hashFile(f.path) != before {
			rerunWrote++
		}
	}
	// The converged state through the CLI.
	for k, v := range want {
		if c, ok := clash[k]; ok {
			if r := f.run(ctx, nil, "get", "--raw", k); r.code != 0 || string(r.stdout) != v {
				notConverged++
				examples = append(examples, fmt.Sprintf("final: hush get %s: %v", k, r))
				break
			}
			v = c
		}
		if r := f.run(ctx, nil, "--scope", migScope, "get", "--raw", k); r.code != 0 || string(r.stdout) != v {
			notConverged++
			examples = append(examples, fmt.Sprintf("final: hush get --scope %s %s: %v", migScope, k, r))
			break
		}
	}
	if st, err := f.state(); err == nil && len(clash) > 0 && records(st) != 0 {
		recordedWithClash++
	}
	// Settle the clashes, as the hints say: keep the person's value (drop
	// the program's new key, apply then moves the old one) or the
	// program's (drop the old key). Then apply completes and records.
	settled := 0
	for _, k := range sortedKeys(clash) {
		args := []string{"rm", k}
		if settled%2 == 0 {
			args = []string{"--scope", migScope, "rm", k}
			clash[k] = want[k]
		}
		if r := f.run(ctx, nil, args...); r.code != 0 {
			notConverged++
			examples = append(examples, fmt.Sprintf("settling a clash: hush %s: %v: %q", strings.Join(args, " "), r, firstLine(r.stderr)))
			settled = -1
			break
		}
		want[k] = clash[k]
		settled++
	}
	if settled >= 0 { // else a clash was not where it should be: counted above
		final := f.run(ctx, nil, apply...)
		st, err := f.state()
		if final.code != 0 || err != nil || !converged(st, want, nil, true) {
			notConverged++
			examples = append(examples, fmt.Sprintf("after settling %d clashes: %v: %q", settled, final, firstLine(final.stderr)))
		}
	}
	rep := s.rep
	rep.info(part, "keys under the migration's rule", s.cfg.migKeys)
	rep.info(part, "killed applies (SIGKILL landed before exit)", kills)
	rep.info(part, "state after each killed run: initial / copied / done / other",
		fmt.Sprintf("%d / %d / %d / %d", byState["initial"], byState["copied"], byState["done"], byState["other"]))
	rep.equal(part, "secrets unreadable after a kill (store file)", unreadable, 0)
	rep.equal(part, "secrets unreadable after a kill (hush get NAME and --scope)", cliUnreadable, 0)
	rep.info(part, "new keys set before the migration: clashing (another value) / same value", fmt.Sprintf("%d / %d", len(clash), countKind(s.cfg.migKeys, "same")))
	rep.equal(part, "clashing new keys whose value was lost or changed", clashLost, 0)
	rep.equal(part, "reruns whose report did not list exactly the clashes", misreported, 0)
	rep.equal(part, "migration recorded complete while keys clashed", recordedWithClash, 0)
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

// lostClashes lists the keys of clash whose new key no longer holds the
// value it had before the migration.
func lostClashes(st, clash map[string]string) []string {
	var bad []string
	for k, v := range clash {
		if st[migNew(k)] != v {
			bad = append(bad, k)
		}
	}
	return bad
}

// converged reports whether st is the migration's end state: every key
// moved but the clashes, which keep both keys as they were, the
// bystanders untouched, and the migration recorded once if recorded, else
// not at all.
func converged(st, want, clash map[string]string, recorded bool) bool {
	end := map[string]string{"OTHER_a": "untouched-a", "OTHER_b": "untouched-b"}
	for k, v := range want {
		if c, ok := clash[k]; ok {
			end[k], end[migNew(k)] = v, c
			continue
		}
		end[migNew(k)] = v
	}
	wantRec := 0
	if recorded {
		wantRec = 1
	}
	got := maps.Clone(st)
	maps.DeleteFunc(got, func(k, _ string) bool { return strings.HasPrefix(k, "__hush_migrate_") })
	return records(st) == wantRec && maps.Equal(got, end)
}

// records counts the migration records in st.
func records(st map[string]string) int {
	n := 0
	for k := range st {
		if strings.HasPrefix(k, "__hush_migrate_") {
			n++
		}
	}
	return n
}

// clashesReported returns the old names of the clashes apply's text
// report lists ("clash: kept both OLD and NEW (different values)").
func clashesReported(stdout []byte) map[string]bool {
	got := map[string]bool{}
	for _, l := range strings.Split(string(stdout), "\n") {
		if rest, ok := strings.CutPrefix(l, "clash: kept both "); ok {
			old, _, _ := strings.Cut(rest, " ")
			got[old] = true
		}
	}
	return got
}

func keysOf(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func countKind(n int, kind string) int {
	c := 0
	for i := 0; i < n; i++ {
		if migKind(i) == kind {
			c++
		}
	}
	return c
}

// classifyMig names the state of the store during the migration, by the
// keys whose new key did not exist before it.
func classifyMig(st, want, clash map[string]string) string {
	old, moved, n := 0, 0, 0
	for i := 0; i < len(want); i++ {
		k := fmt.Sprintf("%sk%03d", migPrefix, i)
		if migKind(i) != "plain" {
			continue
		}
		n++
		if _, ok := st[k]; ok {
			old++
		}
		if _, ok := st[migNew(k)]; ok {
			moved++
		}
	}
	switch {
	case old == n && moved == 0:
		return "initial"
	case old == n && moved == n:
		return "copied"
	case old == 0 && moved == n:
		return "done"
	}
	return "other"
}
