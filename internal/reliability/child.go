package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store"
)

// roleEnv selects a child role when this program (or the smoke test
// binary) is re-executed as a child process.
const roleEnv = "HUSH_RELIABILITY_ROLE"

// Environment of the child roles.
const (
	envStore    = "HUSH_RELIABILITY_STORE"
	envIdentity = "HUSH_RELIABILITY_IDENTITY" // path of an identity file
	envCount    = "HUSH_RELIABILITY_COUNT"
	envMarker   = "HUSH_RELIABILITY_MARKER"
	envKey      = "HUSH_RELIABILITY_KEY"
	envReady    = "HUSH_RELIABILITY_READY"
	envChaos    = "HUSH_RELIABILITY_CHAOS" // "locked": the chaos process holds the lock while replacing it
)

// childMain runs the child role named by roleEnv and returns its exit code.
func childMain(role string) int {
	var err error
	switch role {
	case "incr":
		err = childIncr()
	case "holder":
		err = childHolder()
	case "waiter":
		err = childWaiter()
	case "chaos":
		err = childChaos()
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "reliability child %s: %v\n", role, err)
		return 1
	}
	return 0
}

// openChildStore opens the store named by the environment.
func openChildStore() (*store.File, error) {
	b, err := os.ReadFile(os.Getenv(envIdentity))
	if err != nil {
		return nil, err
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return store.Open(os.Getenv(envStore), store.Options{Identities: ids, LockTimeout: 10 * time.Minute})
}

// incrResult is what an incrementing child prints as JSON on stdout.
type incrResult struct {
	Done       int      `json:"done"`
	Violations int      `json:"violations"`
	WaitsNS    []int64  `json:"waits_ns"`
	Errors     []string `json:"errors,omitempty"`
}

// childIncr increments the counter key COUNT times, each in its own
// store.Update. Inside the batch function it creates the O_EXCL marker
// file: finding it already there means another process is inside its
// critical section at the same time (an exclusion violation). It records
// the lock wait: the time from calling Update to entering the function.
func childIncr() error {
	f, err := openChildStore()
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(os.Getenv(envCount))
	marker, key := os.Getenv(envMarker), os.Getenv(envKey)
	var res incrResult
	ctx := context.Background()
	for i := 0; i < n; i++ {
		start := time.Now()
		entered := false
		err := f.Update(ctx, func(tx store.Tx) error {
			if !entered {
				entered = true
				res.WaitsNS = append(res.WaitsNS, int64(time.Since(start)))
			}
			mf, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if errors.Is(err, fs.ErrExist) {
				res.Violations++
			} else if err != nil {
				return err
			} else {
				mf.Close()
				defer os.Remove(marker)
			}
			cur := 0
			v, err := tx.Get(key)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return err
			default:
				if cur, err = strconv.Atoi(string(v)); err != nil {
					return fmt.Errorf("counter %q: %w", v, err)
				}
			}
			return tx.Set(key, []byte(strconv.Itoa(cur+1)))
		})
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
			continue
		}
		res.Done++
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// childHolder takes the store's lock through the library and holds it
// forever, creating the READY file once it holds it.
func childHolder() error {
	f, err := openChildStore()
	if err != nil {
		return err
	}
	return f.Update(context.Background(), func(store.Tx) error {
		if err := os.WriteFile(os.Getenv(envReady), nil, 0o600); err != nil {
			return err
		}
		select {}
	})
}

// childWaiter announces on stderr that it is about to wait, then takes the
// lock through the library and prints, on stdout, the wall-clock time
// (Unix nanoseconds) at which its batch function was entered.
func childWaiter() error {
	f, err := openChildStore()
	if err != nil {
		return err
	}
	// Read the store once so the wait below is only the lock.
	if _, err := f.List(context.Background()); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "waiting")
	var entered int64
	err = f.Update(context.Background(), func(store.Tx) error {
		entered = time.Now().UnixNano()
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Println(entered)
	return nil
}

// childChaos deletes and recreates the lock file (STORE.lock) in a loop,
// alternating between unlink-then-create and rename of a fresh file over
// it, until SIGTERM; it then prints how many times it replaced the file.
// With HUSH_RELIABILITY_CHAOS=locked it first takes the flock of the file
// it is about to replace (as a tool that deletes its lock file on release
// does); otherwise it replaces the file under the holder's feet.
func childChaos() error {
	lock := os.Getenv(envStore) + ".lock"
	locked := os.Getenv(envChaos) == "locked"
	tmp := filepath.Join(filepath.Dir(lock), ".chaos-lock-tmp")
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	n := 0
	for {
		select {
		case <-stop:
			fmt.Println(n)
			return nil
		default:
		}
		var held *os.File
		if locked {
			fh, err := os.OpenFile(lock, os.O_RDWR, 0)
			if err == nil {
				if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX); err != nil {
					fh.Close()
					return err
				}
				held = fh
			}
		}
		if n%2 == 0 {
			os.Remove(lock)
			if fh, err := os.OpenFile(lock, os.O_CREATE|os.O_RDWR, 0o600); err == nil {
				fh.Close()
			}
		} else {
			if fh, err := os.OpenFile(tmp, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600); err == nil {
				fh.Close()
				os.Rename(tmp, lock)
			}
		}
		if held != nil {
			held.Close() // releases the flock of the replaced file
		}
		n++
		time.Sleep(time.Duration(100+n%400) * time.Microsecond)
	}
}
