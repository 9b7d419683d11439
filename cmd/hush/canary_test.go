package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// canary is a secret value that must appear nowhere but on the standard
// output of get, export and exec children.
const canary = "CANARY-7f3a9c2e-d41d8cd98f00"

// TestCanary runs every command, including failure paths, with a known
// secret and checks that the value never reaches stderr, stdout of
// commands that do not print values, any file outside the store and the
// explicit -o outputs, or the argv of any process started.
func TestCanary(t *testing.T) {
	t.Parallel()
	home, env := homeWithStore(t)
	tmp := strings.TrimPrefix(env[1], "TMPDIR=")
	in := t.TempDir() // inputs the test writes, outside HOME
	procs := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(in, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dotenv := write("in.env", "FROM_DOTENV='"+canary+"'\n")
	clash := write("clash.env", "K='other "+canary+"'\n")
	bad := write("bad.env", "OK=1\nBAD=\""+canary+"\n")
	badJSON := write("bad.json", `{"A": "`+canary+`", "B": `)
	big := write("big", strings.Repeat(canary, 5<<20/len(canary)+1))
	other := filepath.Join(in, "other.txt")
	out := filepath.Join(home, "out.txt")
	envV := append(env, "HUSH_LOCK_TIMEOUT=5s")

	type step struct {
		args       []string
		stdin      string
		code       int
		mayPrint   bool // stdout may hold the value
		mustPrint  bool
		extraEnv   []string
		explicitTo string // an -o output, excluded from the scan
	}
	steps := []step{
		{args: []string{"-v", "set", "K", "--description", "d"}, stdin: canary + "\n"},
		{args: []string{"set", "--from-file", "-", "K2"}, stdin: canary},
		{args: []string{"--scope", "ci", "set", "TOKEN"}, stdin: canary},
		{args: []string{"set", "KEEP"}, stdin: canary},
		{args: []string{"-v", "get", "K"}, mayPrint: true, mustPrint: true},
		{args: []string{"get", "--raw", "K2"}, mayPrint: true, mustPrint: true},
		{args: []string{"get", "-o", out, "K"}, explicitTo: out},
		{args: []string{"ls"}}, {args: []string{"ls", "--long", "--json"}}, {args: []string{"ls", "--system"}},
		{args: []string{"--scope", "ci", "ls", "-l"}},
		{args: []string{"export"}, mayPrint: true, mustPrint: true},
		{args: []string{"export", "--format", "json"}, mayPrint: true, mustPrint: true},
		{args: []string{"export", "--format", "shell"}, mayPrint: true, mustPrint: true},
		{args: []string{"exec", "--", "sh", "-c", `printf %s "$K"; tr '\0' '\n' < /proc/self/cmdline > "$PROCS/cmdline.$$"; tr '\0' '\n' < /proc/self/environ > "$PROCS/environ.$$"`},
			mayPrint: true, mustPrint: true, extraEnv: []string{"PROCS=" + procs}},
		{args: []string{"exec", "--secret", "K,target=MAPPED", "--", "sh", "-c", `tr '\0' '\n' < /proc/self/cmdline > "$PROCS/cmdline2.$$"`},
			extraEnv: []string{"PROCS=" + procs}},
		{args: []string{"import", dotenv}},
		{args: []string{"mv", "FROM_DOTENV", "MOVED"}},
		{args: []string{"rm", "MOVED"}},
		{args: []string{"recipients", "ls"}},
		{args: []string{"keygen", "-o", other}},
		{args: []string{"doctor"}}, {args: []string{"doctor", "--json"}},
		{args: []string{"migrate", "plan", "--rule", "K=moved"}},
		{args: []string{"migrate", "apply", "--rule", "K2=moved", "--json"}},
		{args: []string{"--scope", "moved", "get", "K2"}, mayPrint: true, mustPrint: true},
		{args: []string{"version"}},
		// Failure paths.
		{args: []string{"get", "NOPE"}, code: 3},
		{args: []string{"set", "__hush_x_Y"}, stdin: canary, code: 4},
		{args: []string{"set", "BAD NAME"}, stdin: canary, code: 2},
		{args: []string{"set", "TOOBIG", "--from-file", big}, code: 1},
		{args: []string{"import", clash}, code: 4},
		{args: []string{"import", bad}, code: 1},
		{args: []string{"import", "--format", "json", badJSON}, code: 1},
		{args: []string{"exec", "--strict", "--only", "K", "--prefix", "1", "--", "true"}, code: 4},
		{args: []string{"exec", "--", "no-such-command-for-hush"}, code: 1},
		{args: []string{"-i", other, "get", "K"}, code: 5},
		{args: []string{"-i", other, "doctor"}, code: 5},
		{args: []string{"mv", "K", "KEEP"}, code: 4},
		{args: []string{"rm", "K", "NOPE"}, code: 3},
		{args: []string{"export", "--format", "yaml"}, code: 2},
	}
	for _, s := range steps {
		stdout, stderr, code := runHush(t, append(append([]string{}, envV...), s.extraEnv...), []byte(s.stdin), s.args...)
		if code != s.code {
			t.Errorf("hush %v: exit %d, want %d (stderr: %s)", s.args, code, s.code, stderr)
		}
		if bytes.Contains(stderr, []byte(canary)) {
			t.Errorf("hush %v: the secret is in stderr: %q", s.args, stderr)
		}
		if has := bytes.Contains(stdout, []byte(canary)); has && !s.mayPrint {
			t.Errorf("hush %v: the secret is on stdout of a command that prints no values", s.args)
		} else if !has && s.mustPrint {
			t.Errorf("hush %v: the secret is missing from stdout (the check would be vacuous)", s.args)
		}
	}

	// The exec children: the value is in their environment, never in argv.
	procFiles, _ := filepath.Glob(filepath.Join(procs, "*"))
	if len(procFiles) != 3 {
		t.Fatalf("exec children wrote %d /proc snapshots, want 3", len(procFiles))
	}
	sawEnv := false
	for _, p := range procFiles {
		b, _ := os.ReadFile(p)
		has := bytes.Contains(b, []byte(canary))
		switch {
		case strings.Contains(p, "cmdline") && has:
			t.Errorf("the secret is in an exec child's argv (%s)", filepath.Base(p))
		case strings.Contains(p, "environ") && has:
			sawEnv = true
		}
	}
	if !sawEnv {
		t.Error("the exec child's environment lacks the secret: the argv check is vacuous")
	}

	// Files: nothing outside the store and the -o output holds the value.
	store := filepath.Join(home, ".local", "share", "hush", "store.age")
	scanned := 0
	for _, root := range []string{home, tmp} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Error(err)
				return nil
			}
			scanned++
			has := bytes.Contains(b, []byte(canary))
			switch p {
			case out:
				if !has {
					t.Error("the -o output lacks the secret: the scan is vacuous")
				}
			case store:
				if has {
					t.Error("the store holds the secret in clear")
				}
			default:
				if has {
					t.Errorf("the secret leaked into %s", p)
				}
			}
			return nil
		})
	}
	if scanned < 4 {
		t.Errorf("scanned only %d files", scanned)
	}
}
