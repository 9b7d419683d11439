package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
)

// canaryStep is one command of the leak scan. The canary may appear on
// its stdout only if outOK (get, export, exec children); never on stderr.
// code is the expected exit code, or -1 for any non-zero code.
type canaryStep struct {
	args  []string
	stdin string // "{canary}" is replaced by the canary
	env   []string
	outOK bool
	code  int
	// needOut: stdout must contain the canary (proves the path carried it).
	needOut bool
}

// runCanary sets a known canary value through every command path,
// including failure paths, then scans every stderr, every stdout that
// should not hold a value, the argv of every process started, and every
// file below the suite's temporary root (all parts' stores, homes, temp
// dirs and the suite's own run.log) plus files under the system temp
// directory changed during the part, for the canary in clear, hex or
// base64. It may appear only in stdout of get/export/exec children and in
// the files the user named (inputs, `get -o`). The store is encrypted, so
// it never holds the canary in clear.
func runCanary(ctx context.Context, s *suite) error {
	const part = "canary"
	started := time.Now()
	f, err := s.newFixture(ctx, "canary")
	if err != nil {
		return err
	}
	var rnd [12]byte
	rand.Read(rnd[:])
	canary := "CANARY-" + hex.EncodeToString(rnd[:])
	in := filepath.Join(f.home, "in")
	out := filepath.Join(f.home, "out")
	for _, d := range []string{in, out} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	// Files that legitimately hold the canary: the user's own inputs and
	// the -o output.
	allowed := map[string]bool{}
	write := func(name, data string) string {
		p := filepath.Join(in, name)
		os.WriteFile(p, []byte(data), 0o600)
		allowed[p] = true
		return p
	}
	valueFile := write("value.txt", canary)
	envFile := write("import.env", "IMPORTED_ENV='"+canary+"'\n")
	jsonFile := write("import.json", `{"IMPORTED_JSON":"`+canary+`"}`)
	badEnv := write("bad.env", "OK=1\nBROKEN LINE "+canary+"\n")
	badEsc := write("bad-escape.env", "X=\""+canary+"\\q\"\n")
	clash := write("clash.env", "IMPORTED_ENV=other-"+canary+"\n")
	badJSON := write("bad.json", `{"bad name":"`+canary+`"}`)
	thv, err := toolhiveFile("pw", []byte(`{"secrets":{"THV_CANARY":"`+canary+`","__thv_ci_token":"`+canary+`"}}`))
	if err != nil {
		return err
	}
	thvFile := write("toolhive", string(thv))
	getOut := filepath.Join(out, "got.txt")
	allowed[getOut] = true
	other, _ := age.GenerateX25519Identity()
	otherID := write("other-identity.txt", other.String()+"\n")
	delete(allowed, otherID)
	big := strings.Repeat(canary, (4<<20)/len(canary)+1)

	steps := []canaryStep{
		{args: []string{"set", "CANARY_SECRET"}, stdin: "{canary}", code: 0},
		{args: []string{"set", "--description", "a canary", "CANARY_DESC"}, stdin: "{canary}\n", code: 0},
		{args: []string{"set", "--from-file", valueFile, "CANARY_FILE"}, code: 0},
		{args: []string{"set", "--from-file", "-", "CANARY_STDIN"}, stdin: "{canary}", code: 0},
		{args: []string{"-v", "get", "CANARY_SECRET"}, outOK: true, needOut: true, code: 0},
		{args: []string{"get", "--raw", "CANARY_FILE"}, outOK: true, needOut: true, code: 0},
		{args: []string{"get", "-o", getOut, "CANARY_DESC"}, code: 0},
		{args: []string{"ls"}, code: 0},
		{args: []string{"ls", "--long"}, code: 0},
		{args: []string{"ls", "--json", "--long"}, code: 0},
		{args: []string{"ls", "--system"}, code: 0},
		{args: []string{"export"}, outOK: true, needOut: true, code: 0},
		{args: []string{"export", "--format", "json"}, outOK: true, needOut: true, code: 0},
		{args: []string{"export", "--format", "shell", "--only", "CANARY_SECRET"}, outOK: true, needOut: true, code: 0},
		{args: []string{"exec", "--", "sh", "-c", `printf %s "$CANARY_SECRET"`}, outOK: true, needOut: true, code: 0},
		{args: []string{"exec", "--secret", "CANARY_SECRET,target=RENAMED", "--", "sh", "-c", `printf %s "$RENAMED"`}, outOK: true, needOut: true, code: 0},
		{args: []string{"exec", "--only", "CANARY_FILE", "--", "sh", "-c", `tr '\0' ' ' </proc/$$/cmdline`}, code: 0},
		{args: []string{"exec", "--", "sh", "-c", "exit 7"}, code: 7},
		{args: []string{"mv", "CANARY_SECRET", "CANARY_MOVED"}, code: 0},
		{args: []string{"mv", "CANARY_MOVED", "CANARY_SECRET"}, code: 0},
		{args: []string{"import", envFile}, code: 0},
		{args: []string{"import", jsonFile}, code: 0},
		{args: []string{"import", "toolhive", thvFile}, env: []string{"TOOLHIVE_SECRETS_PASSWORD=pw"}, code: 0},
		{args: []string{"--scope", "ci", "get", "token"}, outOK: true, needOut: true, code: 0},
		{args: []string{"recipients", "add", other.Recipient().String()}, code: 0},
		{args: []string{"recipients", "ls"}, code: 0},
		{args: []string{"recipients", "rm", other.Recipient().String()}, code: 0},
		{args: []string{"migrate", "plan", "--rule", "CANARY_=canary"}, code: 0},
		{args: []string{"migrate", "apply", "--rule", "CANARY_=canary"}, code: 0},
		{args: []string{"--scope", "canary", "get", "CANARY_SECRET"}, outOK: true, needOut: true, code: 0},
		{args: []string{"--scope", "canary", "mv", "CANARY_SECRET", "CANARY_SECRET2"}, code: 0},
		{args: []string{"doctor"}, code: 0},
		{args: []string{"doctor", "--json"}, code: 0},
		// Failure paths with the canary in flight.
		{args: []string{"set", "bad name"}, stdin: "{canary}", code: 2},
		{args: []string{"set", "__hush_x_y"}, stdin: "{canary}", code: 4},
		{args: []string{"set", "TOO_BIG"}, stdin: big, code: 1},
		{args: []string{"import", badEnv}, code: -1},
		{args: []string{"import", badEsc}, code: -1},
		{args: []string{"import", "--format", "dotenv", clash}, code: -1},
		{args: []string{"import", "--format", "dotenv", "-"}, stdin: "A='{canary}", code: -1},
		{args: []string{"import", badJSON}, code: -1},
		{args: []string{"import", "--format", "json", "-"}, stdin: `{"A":"{canary}"`, code: -1},
		{args: []string{"import", "toolhive", thvFile}, env: []string{"TOOLHIVE_SECRETS_PASSWORD=wrong"}, code: 5},
		{args: []string{"exec", "--strict", "--", "true"}, code: -1, env: nil},
		{args: []string{"-i", otherID, "get", "CANARY_FILE"}, code: 5},
		{args: []string{"get", "--raw", "missing"}, code: 3},
		{args: []string{"--lock-timeout", "300ms", "set", "LOCKED"}, stdin: "{canary}", code: 6},
		{args: []string{"get", "CANARY_FILE"}, code: 5}, // on a tampered copy (see below)
	}
	var (
		leaks        []string
		wrongCode    []string
		missingOut   []string
		argvLeaks    int
		holderCancel func()
	)
	defer func() {
		if holderCancel != nil {
			holderCancel()
		}
	}()
	// An entry the --strict exec refuses: a name that is no variable name.
	if r := f.run(ctx, []byte(canary), "set", "not.a-var"); r.code != 0 {
		return fmt.Errorf("hush set: %v: %s", r, r.stderr)
	}
	for i, st := range steps {
		args := st.args
		g := *f
		g.extra = st.env
		if strings.Join(args, " ") == "--lock-timeout 300ms set LOCKED" {
			h, err := s.startHolder(ctx, f, 900)
			if err != nil {
				return err
			}
			holderCancel = func() { h.Process.Kill(); h.Wait() }
		}
		if i == len(steps)-1 {
			// A tampered copy of the store: flip one byte past the header.
			b := mustRead(f.path)
			b[len(b)-20] ^= 0x40
			tampered := filepath.Join(f.dir, "tampered.age")
			os.WriteFile(tampered, b, 0o600)
			args = append([]string{"--store", tampered}, args...)
		}
		for _, a := range args {
			if strings.Contains(a, canary) {
				argvLeaks++
			}
		}
		stdin := []byte(strings.ReplaceAll(st.stdin, "{canary}", canary))
		r := g.run(ctx, stdin, args...)
		if holderCancel != nil {
			holderCancel()
			holderCancel = nil
		}
		what := "hush " + strings.Join(args, " ")
		if (st.code >= 0 && r.code != st.code) || (st.code < 0 && r.code <= 0) {
			wrongCode = append(wrongCode, fmt.Sprintf("%s: %v: %q", what, r, firstLine(r.stderr)))
		}
		if leaked(r.stderr, canary) {
			leaks = append(leaks, what+": stderr")
		}
		if !st.outOK && leaked(r.stdout, canary) {
			leaks = append(leaks, what+": stdout")
		}
		if st.needOut && !bytes.Contains(r.stdout, []byte(canary)) {
			missingOut = append(missingOut, what)
		}
	}
	if b, err := os.ReadFile(getOut); err != nil || string(b) != canary {
		missingOut = append(missingOut, "get -o file")
	}

	// Scan every file below the suite's root and recent files in the
	// system temp directory.
	scanned := 0
	scan := func(root string, since time.Time) {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if root != s.root && p == s.root {
					return fs.SkipDir // scanned in full already
				}
				return nil
			}
			if !d.Type().IsRegular() || allowed[p] || p == s.hush {
				return nil
			}
			info, err := d.Info()
			if err != nil || info.Size() > 64<<20 || (!since.IsZero() && info.ModTime().Before(since)) {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			scanned++
			if leaked(b, canary) {
				leaks = append(leaks, "file "+p)
			}
			return nil
		})
	}
	s.logMu.Lock()
	s.log.Sync()
	s.logMu.Unlock()
	scan(s.root, time.Time{})
	scan(os.TempDir(), started)
	// The suite's own report so far.
	var table bytes.Buffer
	s.rep.print(&table)
	if leaked(table.Bytes(), canary) {
		leaks = append(leaks, "the report table")
	}

	rep := s.rep
	rep.info(part, "commands run with the canary (incl. failure paths)", len(steps))
	rep.info(part, "files scanned (suite root, recent system temp files)", scanned)
	rep.check(part, "canary found outside get/export/exec stdout and user-named files", len(leaks), "0", len(leaks) == 0)
	rep.equal(part, "argv of processes started holding the canary", argvLeaks, 0)
	rep.check(part, "paths that should carry the canary but did not", len(missingOut), "0", len(missingOut) == 0)
	rep.check(part, "commands with an unexpected exit code", len(wrongCode), "0", len(wrongCode) == 0)
	var problems []string
	problems = append(problems, leaks...)
	for _, m := range missingOut {
		problems = append(problems, "no canary on stdout of "+m)
	}
	problems = append(problems, wrongCode...)
	if len(problems) > 0 {
		// Never print the canary itself.
		rep.check(part, "problems", strings.ReplaceAll(joinMax(problems, 8), canary, "<canary>"), "none", false)
	}
	return nil
}

// leaked reports whether b holds the canary in clear, hex or base64.
func leaked(b []byte, canary string) bool {
	if bytes.Contains(b, []byte(canary)) || bytes.Contains(b, []byte(hex.EncodeToString([]byte(canary)))) {
		return true
	}
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString([]byte(canary[i:]))
		core := enc[:len(enc)-4] // the tail depends on what follows
		if bytes.Contains(b, []byte(core)) {
			return true
		}
	}
	return false
}
