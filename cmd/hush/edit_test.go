package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hush-secrets/hush/store"
)

// editEnv returns a store with API_KEY=s3cret, an environment running
// hush edit with the shell script editor as $EDITOR and a private
// $XDG_RUNTIME_DIR, and the paths of the store and that directory.
func editEnv(t *testing.T, editor string) (env []string, storePath, runDir string) {
	t.Helper()
	home, env := homeWithStore(t)
	if _, stderr, code := runHush(t, env, []byte("s3cret"), "set", "API_KEY"); code != 0 {
		t.Fatalf("set: exit %d: %s", code, stderr)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "editor.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"+editor), 0o755); err != nil {
		t.Fatal(err)
	}
	runDir = filepath.Join(dir, "run")
	if err := os.Mkdir(runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	env = append(env, "EDITOR="+script, "XDG_RUNTIME_DIR="+runDir, "REC="+filepath.Join(dir, "rec"), "GO="+filepath.Join(dir, "go"))
	return env, filepath.Join(home, ".local/share/hush/store.age"), runDir
}

// startEdit starts hush edit API_KEY and waits until the editor has
// recorded the path of its file in $REC.
func startEdit(t *testing.T, env []string) (cmd *exec.Cmd, stderr *bytes.Buffer, path string) {
	t.Helper()
	cmd = hushCmd(t, env, "edit", "API_KEY")
	stderr = &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rec := envValue(env, "REC")
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(rec)
		if err == nil && bytes.HasSuffix(b, []byte("\n")) {
			return cmd, stderr, strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the editor never started (stderr: %s)", stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func envValue(env []string, k string) string {
	v, _ := lookupEnv(env, k)
	return v
}

func checkNoTempLeft(t *testing.T, runDir, path string) {
	t.Helper()
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the editor's directory %s is still there (%v)", filepath.Dir(path), err)
	}
	if des, _ := os.ReadDir(runDir); len(des) != 0 {
		t.Errorf("%s holds %d entries after hush exited", runDir, len(des))
	}
}

// TestEditKilled sends SIGTERM or SIGHUP to hush while the editor runs:
// hush passes it on, removes the directory, writes nothing and dies of
// the same signal.
func TestEditKilled(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			env, storePath, runDir := editEnv(t, `echo "$1" > "$REC"; exec sleep 60`)
			before, _ := os.ReadFile(storePath)
			cmd, stderr, path := startEdit(t, env)
			if !strings.HasPrefix(path, runDir+"/hush-edit-") {
				t.Errorf("the editor's file is %s, not in $XDG_RUNTIME_DIR", path)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("hush: %v", err)
			}
			if st := ee.Sys().(syscall.WaitStatus); !st.Signaled() || st.Signal() != sig {
				t.Errorf("hush ended with %v, want death by %v (stderr: %s)", st, sig, stderr)
			}
			if d := time.Since(start); d >= editorGrace {
				t.Errorf("hush took %v to stop: the editor did not get the signal", d)
			}
			if !strings.Contains(stderr.String(), "nothing written, the temporary file is removed") {
				t.Errorf("stderr: %q", stderr)
			}
			checkNoTempLeft(t, runDir, path)
			if after, _ := os.ReadFile(storePath); !bytes.Equal(before, after) {
				t.Error("the store was written")
			}
		})
	}
}

// TestEditInterruptIsTheEditors sends SIGINT to hush alone while the
// editor runs: the editor carries on (Ctrl-C in vi must not lose the
// edit), and what it saves is stored.
func TestEditInterruptIsTheEditors(t *testing.T) {
	t.Parallel()
	env, _, runDir := editEnv(t, `echo "$1" > "$REC"
while [ ! -e "$GO" ]; do sleep 0.02; done
printf 'after interrupt' > "$1"`)
	cmd, stderr, path := startEdit(t, env)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let hush see it
	if err := os.WriteFile(envValue(env, "GO"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("hush: %v (stderr: %s)", err, stderr)
	}
	checkNoTempLeft(t, runDir, path)
	out, _, code := runHush(t, env, nil, "get", "API_KEY")
	if code != 0 || string(out) != "after interrupt\n" {
		t.Errorf("get: exit %d, %q", code, out)
	}
}

// TestEditCleanupInProcess runs runEdit with fake signals and temporary
// directories: a signal pending before the editor starts, the fallback
// outside a memory file system, and an editor failure all leave nothing.
func TestEditCleanupInProcess(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	if err := m.Set(ctx, "K", []byte("v")); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	setup := func(editor string, sigs chan os.Signal) (editSetup, string) {
		mem, fallback := t.TempDir(), t.TempDir()
		return editSetup{Editor: editor, MemDirs: []string{filepath.Join(mem, "absent"), mem}, Fallback: fallback,
			Env: []string{"PATH=" + os.Getenv("PATH")}, Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
			Signals: sigs, Warnf: func(f string, a ...any) { warnings = append(warnings, f) }}, mem
	}
	empty := func(dir string) bool { des, _ := os.ReadDir(dir); return len(des) == 0 }

	sigs := make(chan os.Signal, 1)
	sigs <- syscall.SIGTERM
	s, mem := setup("true", sigs)
	var se *signalError
	if err := runEdit(ctx, m, editOptions{Name: "K"}, s); !errors.As(err, &se) || se.sig != syscall.SIGTERM || se.written {
		t.Errorf("with SIGTERM pending: %v", err)
	}
	if !empty(mem) {
		t.Error("a directory was left behind")
	}

	// the first memory directory that works is used; none: the fallback, with a warning
	s, mem = setup("printf x >", nil)
	if err := runEdit(ctx, m, editOptions{Name: "K"}, s); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Get(ctx, "K"); string(v) != "x" || !empty(mem) || len(warnings) != 0 {
		t.Errorf("value %q, %s empty: %v, warnings %q", v, mem, empty(mem), warnings)
	}
	s, _ = setup("printf y >", nil)
	s.MemDirs = []string{"/nonexistent/hush-test"}
	if err := runEdit(ctx, m, editOptions{Name: "K"}, s); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Get(ctx, "K"); string(v) != "y" || len(warnings) != 1 || !strings.Contains(warnings[0], "no memory file system") || !empty(s.Fallback) {
		t.Errorf("fallback: value %q, warnings %q, fallback empty: %v", v, warnings, empty(s.Fallback))
	}

	// a failing editor, or one that leaves a directory where the file was
	writes := m.Writes()
	for _, editor := range []string{"exit 3;", `f() { rm -f "$1"; mkdir "$1"; }; f`, "rm -f"} {
		s, mem = setup(editor, nil)
		if err := runEdit(ctx, m, editOptions{Name: "K"}, s); err == nil {
			t.Errorf("editor %q: no error", editor)
		}
		if !empty(mem) {
			t.Errorf("editor %q: a directory was left behind", editor)
		}
	}
	if m.Writes() != writes {
		t.Error("a failed edit wrote the store")
	}
}

func TestEditFileName(t *testing.T) {
	for in, want := range map[string]string{
		"API_KEY":                "API_KEY",
		"tls/cert.pem":           "tls_cert.pem",
		".hidden":                "_hidden",
		"-flag":                  "_flag",
		"ünïcode":                "__n__code",
		strings.Repeat("a", 200): strings.Repeat("a", 64),
	} {
		if got := editFileName(in); got != want {
			t.Errorf("editFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
