package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hush-secrets/hush/internal/testkit"
)

// asuser UID CODE [-stdin FILE] [-env K=V]... hush ARGS... runs hush as
// the user UID (group UID), chrooted in $WORK, and checks that it exits
// CODE. A path relative to $WORK names the same file inside and outside
// (the working directory inside is $WORK, as "/"); the user's HOME is
// /users/UID, made for it 0700 on first use. Its stdout and stderr are the
// command's, for `stdout` and `stderr`.
//
// Running hush as a real second user, rather than giving files to another
// uid with chown and running hush as root, is what shows what the kernel
// lets another user do (a sticky directory, protected symlinks, a lock
// that user cannot open). It needs root ([otheruser] condition); hosts
// whose / is closed to other users (this VM's is 0700) are why hush runs
// chrooted, from a copy of this test binary and its libraries.
func runAsUser(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: asuser UID CODE [-stdin FILE] [-env K=V]... hush ARGS...")
	}
	uid, err1 := strconv.Atoi(args[0])
	code, err2 := strconv.Atoi(args[1])
	if err1 != nil || err2 != nil {
		ts.Fatalf("asuser: UID and CODE are numbers")
	}
	args = args[2:]
	var stdin []byte
	var env []string
	for len(args) > 1 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-stdin":
			stdin = []byte(ts.ReadFile(args[1]))
		case "-env":
			env = append(env, args[1])
		default:
			ts.Fatalf("asuser: unknown option %s", args[0])
		}
		args = args[2:]
	}
	if len(args) == 0 || args[0] != "hush" {
		ts.Fatalf("asuser runs hush only")
	}
	work := ts.Getenv("WORK")
	if _, err := os.Stat(filepath.Join(work, "hush")); err != nil {
		if _, err := testkit.ChrootBinary(work, os.Args[0], "hush"); err != nil {
			ts.Fatalf("asuser: %v", err)
		}
	}
	home := filepath.Join("users", strconv.Itoa(uid))
	if err := os.MkdirAll(filepath.Join(work, home), 0o700); err == nil {
		os.Chmod(filepath.Join(work, "users"), 0o755)
		os.Chown(filepath.Join(work, home), uid, uid)
	}
	cmd := testkit.CommandAs(work, uid, "/hush", args[1:]...)
	cmd.Env = append([]string{"HUSH_TEST_MAIN=1", "HOME=/" + home, "TMPDIR=/" + home, "PATH=/"}, env...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	err := cmd.Run()
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("asuser: %v", err)
	}
	if got != code {
		ts.Fatalf("hush as uid %d exited %d, want %d", uid, got, code)
	}
}
