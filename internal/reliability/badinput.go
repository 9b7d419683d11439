package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// badCase is one bad input. hush runs with args and stdin in a fixture
// holding a store with the secrets "exists" and "other" (plus whatever
// setup adds); env entries are added to (and override) the fixture's
// environment. The run must exit with code, print nothing on stdout, start
// stderr with "hush: " (and contain want, if set), and leave every file of
// the fixture as it was (no store change, no new file).
type badCase struct {
	name  string
	args  []string
	stdin string
	env   []string
	code  int
	want  string // substring of stderr
	// setup prepares the fixture (after the snapshot is taken from its
	// result, before the run) and returns a function undoing it.
	setup func(f *fixture) (undo func(), err error)
}

// Files the corpus refers to live in {in}, the fixture's home/in.
const inDir = "in"

// badCorpus is the table of bad inputs. In arguments and environment
// values {in} is replaced by the input directory and {recipient} by the
// fixture's recipient.
func badCorpus() []badCase {
	long := strings.Repeat("n", 256)
	return []badCase{
		// Names.
		{name: "empty name", args: []string{"set", ""}, stdin: "v", code: 2},
		{name: "name with a space", args: []string{"set", "a b"}, stdin: "v", code: 2},
		{name: "name with a tab", args: []string{"set", "a\tb"}, stdin: "v", code: 2},
		{name: "name with a newline", args: []string{"set", "a\nb"}, stdin: "v", code: 2},
		{name: "name with a control byte", args: []string{"set", "a\x01b"}, stdin: "v", code: 2},
		{name: "name with DEL", args: []string{"set", "a\x7fb"}, stdin: "v", code: 2},
		{name: "name of 256 bytes", args: []string{"set", long}, stdin: "v", code: 2},
		{name: "name not UTF-8", args: []string{"set", "a\xff\xfe"}, stdin: "v", code: 2},
		{name: "name with U+2028", args: []string{"set", "a\u2028b"}, stdin: "v", code: 2},
		{name: "get of an invalid name", args: []string{"get", "a b"}, code: 2},
		{name: "rm of an invalid name", args: []string{"rm", "exists", "a b"}, code: 2},
		{name: "mv to an invalid name", args: []string{"mv", "exists", "a b"}, code: 2},
		{name: "set of a reserved name", args: []string{"set", "__hush_ci_token"}, stdin: "v", code: 4},
		{name: "get of a reserved name", args: []string{"get", "__hush_ci_token"}, code: 4},
		{name: "rm of a reserved name", args: []string{"rm", "exists", "__hush_ci_token"}, code: 4},
		{name: "mv to a reserved name", args: []string{"mv", "exists", "__hush_ci_token"}, code: 4},
		{name: "set with the value on argv", args: []string{"set", "new", "value"}, code: 2},
		{name: "get without a name", args: []string{"get"}, code: 2},
		{name: "get of a missing name", args: []string{"get", "missing"}, code: 3},
		{name: "rm of a missing name (with an existing one)", args: []string{"rm", "exists", "missing"}, code: 3},
		{name: "mv of a missing name", args: []string{"mv", "missing", "new"}, code: 3},
		{name: "mv over an existing name", args: []string{"mv", "exists", "other"}, code: 4},
		{name: "value over 4 MiB", args: []string{"set", "big"}, stdin: strings.Repeat("v", 4<<20+1), code: 1},
		{name: "--from-file that does not exist", args: []string{"set", "new", "--from-file", "{in}/none"}, code: 1},
		{name: "value of 4 MiB + 1 byte and a newline", args: []string{"set", "big"}, stdin: strings.Repeat("v", 4<<20+1) + "\n", code: 1},
		{name: "--from-file of 4 MiB + 1 byte", args: []string{"set", "big", "--from-file", "{in}/value-over.txt"}, code: 1},
		{name: "--keep-newline: 4 MiB and a newline", args: []string{"set", "big", "--keep-newline"}, stdin: strings.Repeat("v", 4<<20) + "\n", code: 1},
		{name: "import of a value over 4 MiB", args: []string{"import", "{in}/value-over.env"}, code: 1},
		{name: "name with a zero-width space", args: []string{"set", "a\u200bb"}, stdin: "v", code: 2, want: "format character"},
		{name: "name with a right-to-left override", args: []string{"set", "a\u202eb"}, stdin: "v", code: 2, want: "format character"},
		{name: "name with a byte-order mark", args: []string{"set", "\ufeffab"}, stdin: "v", code: 2, want: "format character"},
		{name: "get of a name with a bidi isolate", args: []string{"get", "a\u2066b"}, code: 2},
		{name: "rm of a name with a zero-width joiner", args: []string{"rm", "exists", "a\u200db"}, code: 2},
		{name: "mv to a name with a left-to-right mark", args: []string{"mv", "exists", "a\u200eb"}, code: 2},
		{name: "generate of a name with a soft hyphen", args: []string{"generate", "a\u00adb"}, code: 2},

		// Scopes.
		{name: "scope with upper case", args: []string{"--scope", "CI", "set", "x"}, stdin: "v", code: 2},
		{name: "scope with an underscore", args: []string{"--scope", "c_i", "get", "x"}, code: 2},
		{name: "scope of 33 characters", args: []string{"--scope", strings.Repeat("s", 33), "get", "x"}, code: 2},
		{name: "scope with a space", args: []string{"--scope", "c i", "ls"}, code: 2},
		{name: "scope with a slash", args: []string{"--scope", "../x", "rm", "x"}, code: 2},
		{name: "--scope on migrate", args: []string{"--scope", "ci", "migrate", "apply", "--rule", "A_=ci"}, code: 2},
		{name: "rule without =", args: []string{"migrate", "apply", "--rule", "A_"}, code: 2},
		{name: "rule with a bad scope", args: []string{"migrate", "apply", "--rule", "A_=Bad"}, code: 2},
		{name: "rule with an empty prefix", args: []string{"migrate", "apply", "--rule", "=ci"}, code: 2},
		{name: "rule moving reserved names", args: []string{"migrate", "apply", "--rule", "__hush_=ci"}, code: 2},
		{name: "migrate without a rule", args: []string{"migrate", "apply"}, code: 2},

		// Recipients.
		{name: "init -r garbage", args: []string{"--store", "{in}/new/store.age", "init", "-r", "garbage"}, code: 2},
		{name: "init -r bad checksum", args: []string{"--store", "{in}/new/store.age", "init", "-r", "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"}, code: 2},
		{name: "init -R missing file", args: []string{"--store", "{in}/new/store.age", "init", "-R", "{in}/none"}, code: 1},
		{name: "init -R file of garbage", args: []string{"--store", "{in}/new/store.age", "init", "-R", "{in}/recipients-bad.txt"}, code: 2},
		{name: "init over an existing store", args: []string{"init", "-r", "{recipient}"}, code: 4},
		{name: "recipients add garbage", args: []string{"recipients", "add", "garbage"}, code: 2},
		{name: "recipients add an SSH key line that is truncated", args: []string{"recipients", "add", "ssh-ed25519 AAAA"}, code: 2},
		{name: "recipients rm the last recipient", args: []string{"recipients", "rm", "{recipient}"}, code: 4},

		// Identities.
		{name: "-i missing file", args: []string{"-i", "{in}/none", "get", "exists"}, code: 1},
		{name: "-i file of garbage", args: []string{"-i", "{in}/identity-garbage.txt", "get", "exists"}, code: 5},
		{name: "-i empty file", args: []string{"-i", "{in}/identity-empty.txt", "get", "exists"}, code: 5},
		{name: "-i file readable by others", args: []string{"-i", "{in}/identity-0644.txt", "get", "exists"}, code: 4},
		{name: "-i identity that is not a recipient", args: []string{"-i", "{in}/identity-other.txt", "get", "exists"}, code: 5},
		{name: "-i directory", args: []string{"-i", "{in}", "get", "exists"}, code: 4},
		{name: "HUSH_IDENTITY garbage", args: []string{"get", "exists"}, env: []string{"HUSH_IDENTITY=AGE-SECRET-KEY-1GARBAGE"}, code: 5},
		{name: "HUSH_IDENTITY_FILE missing", args: []string{"get", "exists"}, env: []string{"HUSH_IDENTITY_FILE={in}/none"}, code: 1},
		{name: "no identity anywhere", args: []string{"set", "new"}, stdin: "v", env: []string{"HUSH_IDENTITY_FILE="}, code: 5},

		// The store itself.
		{name: "store writable by others", args: []string{"get", "exists"}, code: 4, setup: chmodStore(0o664)},
		{name: "no store at the path", args: []string{"--store", "{in}/nostore/store.age", "get", "exists"}, code: 1},
		{name: "HUSH_STORE is a directory", args: []string{"get", "exists"}, env: []string{"HUSH_STORE={in}"}, code: 4},

		// Import files.
		{name: "dotenv line without =", args: []string{"import", "{in}/bad-noeq.env"}, code: 1},
		{name: "dotenv bad escape", args: []string{"import", "{in}/bad-escape.env"}, code: 1},
		{name: "dotenv unterminated quote", args: []string{"import", "{in}/bad-quote.env"}, code: 1},
		{name: "dotenv duplicate name", args: []string{"import", "{in}/bad-dup.env"}, code: 1},
		{name: "dotenv reserved name", args: []string{"import", "{in}/bad-reserved.env"}, code: 4},
		{name: "dotenv clash with an existing value", args: []string{"import", "{in}/clash.env"}, code: 4},
		{name: "JSON that is not JSON", args: []string{"import", "{in}/bad.json"}, code: 1},
		{name: "JSON with a number value", args: []string{"import", "{in}/bad-number.json"}, code: 1},
		{name: "JSON array", args: []string{"import", "--format", "json", "{in}/bad-array.env"}, code: 1},
		{name: "import of a missing file", args: []string{"import", "{in}/none.env"}, code: 1},
		{name: "import --overwrite --skip-existing", args: []string{"import", "--overwrite", "--skip-existing", "{in}/good.env"}, code: 2},
		{name: "import --format xml", args: []string{"import", "--format", "xml", "{in}/good.env"}, code: 2},
		{name: "ToolHive wrong password", args: []string{"import", "toolhive", "{in}/toolhive"}, env: []string{"TOOLHIVE_SECRETS_PASSWORD=wrong"}, code: 5},
		{name: "ToolHive truncated file", args: []string{"import", "toolhive", "{in}/toolhive-short"}, env: []string{"TOOLHIVE_SECRETS_PASSWORD=pw"}, code: 5},
		{name: "ToolHive plaintext not JSON", args: []string{"import", "toolhive", "{in}/toolhive-notjson"}, env: []string{"TOOLHIVE_SECRETS_PASSWORD=pw"}, code: 1},
		{name: "ToolHive without a password", args: []string{"import", "toolhive", "{in}/toolhive"}, code: 1},

		// Odd input files: a device or a named pipe is refused unread
		// (nothing hangs, nothing runs out of memory), a file past its
		// limit is refused, never cut short.
		{name: "import /dev/zero", args: []string{"import", "/dev/zero"}, code: 4, want: "not a regular file"},
		{name: "import a FIFO", args: []string{"import", "{in}/fifo"}, code: 4, want: "named pipe"},
		{name: "import toolhive /dev/zero", args: []string{"import", "toolhive", "/dev/zero"}, env: []string{"TOOLHIVE_SECRETS_PASSWORD=pw"}, code: 4},
		{name: "import toolhive a FIFO", args: []string{"import", "toolhive", "{in}/fifo"}, env: []string{"TOOLHIVE_SECRETS_PASSWORD=pw"}, code: 4},
		{name: "restore /dev/zero", args: []string{"restore", "/dev/zero"}, code: 4},
		{name: "-i /dev/zero", args: []string{"-i", "/dev/zero", "get", "exists"}, code: 4},
		{name: "-i a FIFO", args: []string{"-i", "{in}/fifo", "get", "exists"}, code: 4, want: "named pipe"},
		{name: "HUSH_IDENTITY_FILE a FIFO", args: []string{"get", "exists"}, env: []string{"HUSH_IDENTITY_FILE={in}/fifo"}, code: 4},
		{name: "-i file over 16 MiB", args: []string{"-i", "{in}/identity-over.txt", "get", "exists"}, code: 1, want: "limit exceeded"},
		{name: "--from-file /dev/zero", args: []string{"set", "new", "--from-file", "/dev/zero"}, code: 4},
		{name: "--from-file a FIFO", args: []string{"set", "new", "--from-file", "{in}/fifo"}, code: 4},
		{name: "init -R /dev/zero", args: []string{"--store", "{in}/new/store.age", "init", "-R", "/dev/zero"}, code: 4},
		{name: "recipients add -R /dev/zero", args: []string{"recipients", "add", "-R", "/dev/zero"}, code: 4},
		{name: "recipients add -R a FIFO", args: []string{"recipients", "add", "-R", "{in}/fifo"}, code: 4},
		{name: "recipients add -R file over 16 MiB", args: []string{"recipients", "add", "-R", "{in}/identity-over.txt"}, code: 1},
		{name: "git textconv /dev/zero", args: []string{"git", "textconv", "/dev/zero"}, code: 4},
		{name: "git textconv a FIFO", args: []string{"git", "textconv", "{in}/fifo"}, code: 4},

		// Odd outputs: nothing is written through or replaces a file
		// that is not a regular one.
		{name: "get -o a FIFO", args: []string{"get", "-o", "{in}/fifo", "exists"}, code: 4},
		{name: "get -o /dev/null", args: []string{"get", "-o", "/dev/null", "exists"}, code: 4},
		{name: "get -o a directory", args: []string{"get", "-o", "{in}", "exists"}, code: 4},
		{name: "get -o a link to a FIFO", args: []string{"get", "-o", "{in}/link-to-fifo", "exists"}, code: 4},
		{name: "get -o a link to /dev/null", args: []string{"get", "-o", "{in}/link-to-null", "exists"}, code: 4},
		{name: "export -o a FIFO", args: []string{"export", "-o", "{in}/fifo"}, code: 4},
		{name: "export -o /dev/zero", args: []string{"export", "-o", "/dev/zero"}, code: 4},
		{name: "keygen -o a FIFO", args: []string{"keygen", "-o", "{in}/fifo"}, code: 4},
		{name: "init --store a FIFO", args: []string{"--store", "{in}/fifo", "init", "-r", "{recipient}"}, code: 4},
		{name: "init --store /dev/zero", args: []string{"--store", "/dev/zero", "init", "-r", "{recipient}"}, code: 4},

		// Flags and commands.
		{name: "unknown flag", args: []string{"get", "--bogus", "exists"}, code: 2},
		{name: "unknown global flag", args: []string{"--bogus", "ls"}, code: 2},
		{name: "unknown command", args: []string{"bogus"}, code: 2},
		{name: "no command", args: []string{}, code: 2},
		{name: "--lock-timeout garbage", args: []string{"--lock-timeout", "soon", "set", "new"}, stdin: "v", code: 2},
		{name: "--lock-timeout negative", args: []string{"--lock-timeout", "-1s", "set", "new"}, stdin: "v", code: 2},
		{name: "HUSH_LOCK_TIMEOUT garbage", args: []string{"set", "new"}, stdin: "v", env: []string{"HUSH_LOCK_TIMEOUT=soon"}, code: 2},
		{name: "export --format xml", args: []string{"export", "--format", "xml"}, code: 2},
		{name: "exec without a command", args: []string{"exec", "--"}, code: 2},
		{name: "exec --secret without target", args: []string{"exec", "--secret", "exists", "--", "true"}, code: 2},
		{name: "exec --strict with a name that is not a variable", args: []string{"exec", "--strict", "--", "true"}, code: 4, setup: addSecret("not.a-var")},
		{name: "keygen -o over an existing file", args: []string{"keygen", "-o", "{in}/identity-other.txt"}, code: 4},
		{name: "completion for an unknown shell", args: []string{"completion", "tcsh"}, code: 2},
		{name: "recipients without a subcommand", args: []string{"recipients", "bogus"}, code: 2},
		{name: "ls with an argument", args: []string{"ls", "extra"}, code: 2},
	}
}

// chmodStore makes the store file mode m for one case.
func chmodStore(m os.FileMode) func(f *fixture) (func(), error) {
	return func(f *fixture) (func(), error) {
		if err := os.Chmod(f.path, m); err != nil {
			return nil, err
		}
		return func() { os.Chmod(f.path, 0o600) }, nil
	}
}

// addSecret adds a secret (through the library-free route: hush set) for
// one case and removes it afterwards.
func addSecret(name string) func(f *fixture) (func(), error) {
	return func(f *fixture) (func(), error) {
		ctx := context.Background()
		if r := f.run(ctx, []byte("v"), "set", name); r.code != 0 {
			return nil, fmt.Errorf("hush set %s: %v: %s", name, r, r.stderr)
		}
		return func() { f.run(ctx, nil, "rm", name) }, nil
	}
}

// runBadInput runs the corpus.
func runBadInput(ctx context.Context, s *suite) error {
	return runCorpus(ctx, s, "badinput", badCorpus(),
		"bad inputs giving a hush: error, their exit code, no stdout, no write")
}

// runCorpus runs cases as the rows of part, each on a fixture holding the
// secrets "exists" and "other" and the files writeBadInputs makes, and
// adds its figures; what names the first row.
func runCorpus(ctx context.Context, s *suite, part string, cases []badCase, what string) error {
	var (
		mu                                    sync.Mutex
		passed, wrongCode, noDiag, out, wrote int
		problems                              []string
	)
	// Cases run in parallel, each worker on its own fixture.
	work := make(chan badCase)
	var wg sync.WaitGroup
	var setupErr error
	for w := 0; w < max(s.cfg.workers, 1); w++ {
		f, err := s.newFixture(ctx, fmt.Sprintf("%s%d", part, w))
		if err != nil {
			return err
		}
		if err := writeBadInputs(f); err != nil {
			return err
		}
		for _, kv := range [][2]string{{"exists", "e"}, {"other", "o"}} {
			if r := f.run(ctx, []byte(kv[1]), "set", kv[0]); r.code != 0 {
				return fmt.Errorf("hush set: %v: %s", r, r.stderr)
			}
		}
		base := filepath.Dir(f.home)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				undo := func() {}
				if c.setup != nil {
					u, err := c.setup(f)
					if err != nil {
						mu.Lock()
						setupErr = fmt.Errorf("%s: setup: %w", c.name, err)
						mu.Unlock()
						continue
					}
					undo = u
				}
				before := snapshot(base)
				r := f.runCase(ctx, c)
				after := snapshot(base)
				undo()
				diff := diffSnapshots(before, after)
				mu.Lock()
				ok := true
				if r.code != c.code {
					wrongCode++
					ok = false
					problems = append(problems, fmt.Sprintf("%s: %v, want exit %d: %q", c.name, r, c.code, firstLine(r.stderr)))
				}
				if !bytes.HasPrefix(r.stderr, []byte("hush: ")) || (c.want != "" && !bytes.Contains(r.stderr, []byte(c.want))) {
					noDiag++
					ok = false
					problems = append(problems, fmt.Sprintf("%s: stderr %q", c.name, firstLine(r.stderr)))
				}
				if len(r.stdout) > 0 {
					out++
					ok = false
					problems = append(problems, fmt.Sprintf("%s: stdout %q", c.name, firstLine(r.stdout)))
				}
				if len(diff) > 0 {
					wrote++
					ok = false
					problems = append(problems, fmt.Sprintf("%s: wrote %s", c.name, strings.Join(diff, ", ")))
				}
				if ok {
					passed++
				}
				mu.Unlock()
			}
		}()
	}
	for _, c := range cases {
		work <- c
	}
	close(work)
	wg.Wait()
	if setupErr != nil {
		return setupErr
	}
	rep := s.rep
	rep.check(part, what, fmt.Sprintf("%d of %d", passed, len(cases)), "all", passed == len(cases))
	rep.equal(part, "wrong exit code", wrongCode, 0)
	rep.equal(part, "missing or unclear hush: diagnostic", noDiag, 0)
	rep.equal(part, "printed on stdout", out, 0)
	rep.equal(part, "wrote or created a file (store, lock, temp, output)", wrote, 0)
	if len(problems) > 0 {
		rep.check(part, "problems", joinMax(problems, 12), "none", false)
	}
	return nil
}

// runCase runs one corpus case with its placeholders expanded.
func (f *fixture) runCase(ctx context.Context, c badCase) result {
	in := filepath.Join(f.home, inDir)
	expand := func(s string) string {
		s = strings.ReplaceAll(s, "{in}", in)
		return strings.ReplaceAll(s, "{recipient}", f.id.Recipient().String())
	}
	args := make([]string, len(c.args))
	for i, a := range c.args {
		args[i] = expand(a)
	}
	var extra []string
	for _, kv := range c.env {
		extra = append(extra, expand(kv))
	}
	g := *f
	g.extra = extra
	var stdin []byte
	if c.stdin != "" {
		stdin = []byte(c.stdin)
	} else {
		stdin = []byte{}
	}
	return g.run(ctx, stdin, args...)
}
