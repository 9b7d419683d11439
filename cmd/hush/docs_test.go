package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The documents whose examples run as tests: every fenced block tagged sh
// (or bash, shell) runs, in order, in one bash per document (set -euo
// pipefail, umask 022) with a throwaway HOME and this test binary as hush
// on PATH; a yaml block's `run:` steps run too, as a CI runner would, with
// the variables of its `env:`. HTML comments just before a fence steer a
// block without changing what readers see (see docMarkers).
var docFiles = []string{"README.md", "docs/TEAMS.md", "docs/CLI.md"}

// minBlocks is the number of blocks each document runs (today), a floor so
// that an edit which breaks the fences (or the parser) cannot make the
// test pass by running less. Lower it only when an example is removed.
var minBlocks = map[string]int{"README.md": 8, "docs/TEAMS.md": 12, "docs/CLI.md": 9}

// docBlock is one fenced block of a document, with the markers before it.
type docBlock struct {
	doc     string
	line    int    // the opening fence's line, from 1
	lang    string // the first word of the info string
	body    string // without the fences and their indentation
	skip    string // not run, and why
	as      string // the member who runs it ("" for the default)
	setup   []string
	check   []string
	replace [][2]string
}

func (b docBlock) String() string { return fmt.Sprintf("%s:%d", b.doc, b.line) }

// runnable reports whether the block is run: a shell block, or a yaml
// block with run: steps.
func (b docBlock) runnable() bool {
	switch b.lang {
	case "sh", "bash", "shell":
		return true
	case "yaml":
		return len(ciSteps(b.body)) > 0
	}
	return false
}

// docMarkers are the comments that may come just before a fence (blank
// lines between are allowed; any other line drops them, which is an error):
//
//	<!-- not run: REASON -->        the block is shown, not run; REASON is required
//	<!-- as: NAME -->               run as member NAME: HOME is homes/NAME, and their
//	                                directory, umask and HUSH_*/GIT_* exports persist
//	<!-- setup: COMMANDS -->        run first (may span lines); `member NAME` switches
//	<!-- check: COMMANDS -->        run after the block, as its member
//	<!-- replace: OLD => NEW -->    run the block with OLD (a placeholder) replaced
//
// Output-only languages (json, text, diff, go) never run; a fence with no
// language is an error, so that a shell example cannot slip in untagged.
// As in any bash with set -e, a failure of a command before the last of an
// && or || list does not stop the block: a later command or a check must
// notice it.
var markerRE = regexp.MustCompile(`(?s)^<!--\s*(not run|as|setup|check|replace):(.*?)-->$`)

var knownLangs = map[string]bool{"sh": true, "bash": true, "shell": true, "yaml": true, "json": true, "text": true, "diff": true, "go": true}

// parseDoc returns the fenced blocks of a Markdown document, with their
// markers. It fails on a fence with no language or an unknown one, a
// malformed or stray marker, an unterminated fence or comment.
func parseDoc(name string, src string) ([]docBlock, error) {
	lines := strings.Split(src, "\n")
	var blocks []docBlock
	var pending docBlock
	havePending := false
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		switch {
		case trimmed == "":
			continue
		case strings.HasPrefix(trimmed, "<!--"):
			start := i
			text := trimmed
			for !strings.HasSuffix(text, "-->") {
				i++
				if i == len(lines) {
					return nil, fmt.Errorf("%s:%d: unterminated comment", name, start+1)
				}
				text += "\n" + strings.TrimSpace(lines[i])
			}
			m := markerRE.FindStringSubmatch(text)
			if m == nil {
				return nil, fmt.Errorf("%s:%d: a comment that is not a marker (not run:, as:, setup:, check:, replace:)", name, start+1)
			}
			arg := strings.TrimSpace(m[2])
			havePending = true
			switch m[1] {
			case "not run":
				if arg == "" {
					return nil, fmt.Errorf("%s:%d: `not run:` needs a reason", name, start+1)
				}
				pending.skip = arg
			case "as":
				pending.as = arg
			case "setup":
				pending.setup = append(pending.setup, arg)
			case "check":
				pending.check = append(pending.check, arg)
			case "replace":
				old, repl, ok := strings.Cut(arg, " => ")
				if !ok || old == "" {
					return nil, fmt.Errorf("%s:%d: want `replace: OLD => NEW`", name, start+1)
				}
				pending.replace = append(pending.replace, [2]string{old, repl})
			}
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			fence := trimmed[:3]
			indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
			b := pending
			b.doc, b.line = name, i+1
			pending, havePending = docBlock{}, false
			if f := strings.Fields(trimmed[3:]); len(f) > 0 {
				b.lang = f[0]
			}
			if !knownLangs[b.lang] {
				return nil, fmt.Errorf("%s: a fence with language %q: tag it (sh, yaml, json, text, diff, ...)", b, b.lang)
			}
			var body []string
			for i++; ; i++ {
				if i == len(lines) {
					return nil, fmt.Errorf("%s: unterminated fence", b)
				}
				if strings.TrimSpace(lines[i]) == fence {
					break
				}
				l := lines[i]
				if n := len(l) - len(strings.TrimLeft(l, " ")); n >= indent {
					l = l[indent:]
				} else {
					l = strings.TrimLeft(l, " ")
				}
				body = append(body, l)
			}
			b.body = strings.Join(body, "\n") + "\n"
			for _, r := range b.replace {
				if !strings.Contains(b.body, r[0]) {
					return nil, fmt.Errorf("%s: `replace: %s` but the block has no %q", b, r[0], r[0])
				}
			}
			if (len(b.setup) > 0 || len(b.check) > 0 || len(b.replace) > 0 || b.as != "") && (b.skip != "" || !b.runnable()) {
				return nil, fmt.Errorf("%s: setup, check, replace or as on a block that does not run", b)
			}
			blocks = append(blocks, b)
		default:
			if havePending {
				return nil, fmt.Errorf("%s:%d: a marker not followed by a fence", name, i+1)
			}
		}
	}
	if havePending {
		return nil, fmt.Errorf("%s: a marker at the end, with no fence", name)
	}
	return blocks, nil
}

var (
	ciRunRE = regexp.MustCompile(`^\s*(?:-\s+)?run:\s*(.*)$`)
	ciEnvRE = regexp.MustCompile(`^(\s+)([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$`)
	ciSecRE = regexp.MustCompile(`\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)
	yamlCom = regexp.MustCompile(`\s+#.*$`)
)

// ciSteps returns the commands of the single-line `run:` steps of a YAML
// block, without trailing comments.
func ciSteps(yaml string) []string {
	var steps []string
	for _, l := range strings.Split(yaml, "\n") {
		if m := ciRunRE.FindStringSubmatch(l); m != nil {
			steps = append(steps, strings.TrimSpace(yamlCom.ReplaceAllString(m[1], "")))
		}
	}
	return steps
}

// ciScript turns a YAML block into bash: each run: step in a subshell with
// the env: variables exported, `${{ secrets.NAME }}` read from the shell
// variable secrets_NAME (a setup marker sets it), `set -eo pipefail` as
// GitHub's default shell has.
func ciScript(yaml string) string {
	var env []string
	inEnv := false
	for _, l := range strings.Split(yaml, "\n") {
		if strings.TrimSpace(l) == "env:" {
			inEnv = true
			continue
		}
		if inEnv {
			if m := ciEnvRE.FindStringSubmatch(l); m != nil {
				v := strings.TrimSpace(yamlCom.ReplaceAllString(m[3], ""))
				v = shellQuote(v)
				v = ciSecRE.ReplaceAllString(v, `'"$${secrets_$1}"'`)
				env = append(env, "export "+m[2]+"="+v)
				continue
			}
			inEnv = false
		}
	}
	var s strings.Builder
	for _, step := range ciSteps(yaml) {
		fmt.Fprintf(&s, "(\nset -eo pipefail\n%s\n%s\n)\n", strings.Join(env, "\n"), step)
	}
	return s.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// docPrelude starts each document's bash: strict mode, umask 022, the
// member switch, and an ERR trap naming the failing command.
const docPrelude = `set -euo pipefail
set -o errtrace
umask 022
trap 'echo "docs-test: failed (status $?) at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND" >&2' ERR
__docs_member=
# member NAME: become NAME: save the current member's directory, umask and
# exported HUSH_* and GIT_* variables; restore NAME's (first time: their
# own empty HOME, umask 022, nothing exported).
member() {
	[[ $1 == "$__docs_member" ]] && return 0
	if [[ -n $__docs_member ]]; then
		{
			printf 'cd %q\numask %s\n' "$PWD" "$(umask)"
			export -p | grep -E '^declare -x (HUSH_|GIT_)' | sed 's/^declare -x /declare -gx /' || true
		} >"$DOCS_STATE/$__docs_member.sh"
		local v
		for v in $(compgen -e | grep -E '^(HUSH_|GIT_)' || true); do unset "$v"; done
	fi
	__docs_member=$1
	export HOME="$DOCS_HOMES/$1"
	if [[ -f $DOCS_STATE/$1.sh ]]; then
		source "$DOCS_STATE/$1.sh"
	else
		mkdir -p "$HOME"
		cd "$HOME"
		umask 022
	fi
}
`

// docScript writes the bash that runs a document's blocks to dir and
// returns its path. Each part (setup, block, check) is a file of its own,
// sourced with its output in PART.out and PART.err, after its name is
// written to the file "current".
func docScript(t *testing.T, dir string, blocks []docBlock) string {
	var s strings.Builder
	s.WriteString(docPrelude)
	part := func(name, member, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&s, "member %s\necho %s >\"$DOCS_STATE/current\"\n{ source %s; } >%s.out 2>%s.err\n",
			member, name, shellQuote(filepath.Join(dir, name)), shellQuote(filepath.Join(dir, name)), shellQuote(filepath.Join(dir, name)))
	}
	for _, b := range blocks {
		if !b.runnable() || b.skip != "" {
			continue
		}
		member := b.as
		if member == "" {
			member = "user"
		}
		id := fmt.Sprintf("%s-line%d", strings.ReplaceAll(b.doc, "/", "_"), b.line)
		for i, su := range b.setup {
			part(fmt.Sprintf("%s-setup%d.sh", id, i+1), member, su+"\n")
		}
		body := b.body
		for _, r := range b.replace {
			body = strings.ReplaceAll(body, r[0], r[1])
		}
		if b.lang == "yaml" {
			body = ciScript(body)
		}
		part(id+".sh", member, body)
		for i, c := range b.check {
			part(fmt.Sprintf("%s-check%d.sh", id, i+1), member, c+"\n")
		}
	}
	s.WriteString("echo done >\"$DOCS_STATE/current\"\n")
	p := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(p, []byte(s.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readDoc(t *testing.T, name string) []docBlock {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseDoc(name, string(src))
	if err != nil {
		t.Fatal(err)
	}
	return blocks
}

// TestDocsFindBlocks guards the extractor: every document has at least
// minBlocks runnable blocks, and every skipped one says why.
func TestDocsFindBlocks(t *testing.T) {
	for _, name := range docFiles {
		run, skipped := 0, 0
		for _, b := range readDoc(t, name) {
			switch {
			case !b.runnable():
			case b.skip != "":
				skipped++
			default:
				run++
			}
		}
		t.Logf("%s: %d blocks run, %d not run", name, run, skipped)
		if run < minBlocks[name] {
			t.Errorf("%s: %d runnable blocks found, want at least %d: are the fences intact?", name, run, minBlocks[name])
		}
	}
}

// docsPath returns the PATH the docs' examples run with: a `hush` that
// runs this test binary as the CLI, then PATH, then the age tools.
func docsPath(t *testing.T) string {
	t.Helper()
	ageDir, err := ageToolsDir()
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	wrapper := "#!/bin/sh\nHUSH_TEST_MAIN=1 exec " + shellQuote(self) + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "hush"), []byte(wrapper), 0o700); err != nil {
		t.Fatal(err)
	}
	path := bin + string(os.PathListSeparator) + os.Getenv("PATH")
	if ageDir != "" {
		path += string(os.PathListSeparator) + ageDir
	}
	return path
}

// TestDocs runs every document's examples (see docFiles).
func TestDocs(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the docs' examples need %s on PATH", tool)
		}
	}
	path := docsPath(t)
	for _, name := range docFiles {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".md"), func(t *testing.T) {
			t.Parallel()
			blocks := readDoc(t, name)
			for _, b := range blocks {
				if b.runnable() && b.skip != "" {
					t.Logf("not run: %s: %s", b, b.skip)
				}
			}
			runDoc(t, blocks, path)
		})
	}
}

func runDoc(t *testing.T, blocks []docBlock, path string) {
	root := t.TempDir()
	parts, state, homes := filepath.Join(root, "parts"), filepath.Join(root, "state"), filepath.Join(root, "home")
	for _, d := range []string{parts, state, homes} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := docScript(t, parts, blocks)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", script)
	cmd.Dir = homes
	cmd.Env = []string{
		"PATH=" + path,
		"HOME=" + homes,
		"USER=" + os.Getenv("USER"),
		"LANG=C.UTF-8",
		"GORACE=" + os.Getenv("GORACE"),
		"DOCS_STATE=" + state,
		"DOCS_HOMES=" + homes,
		"DOCS_ROOT=" + root,
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	cur, _ := os.ReadFile(filepath.Join(state, "current"))
	current := strings.TrimSpace(string(cur))
	if err == nil && current == "done" {
		return
	}
	msg := fmt.Sprintf("bash: %v\n%s", err, stderr.String())
	if current != "" && current != "done" {
		text, _ := os.ReadFile(filepath.Join(parts, current))
		out, _ := os.ReadFile(filepath.Join(parts, current+".out"))
		errOut, _ := os.ReadFile(filepath.Join(parts, current+".err"))
		msg = fmt.Sprintf("%s failed: %v\n--- %s (as run)\n%s--- stdout\n%s--- stderr\n%s", current, err, current, text, out, errOut)
	}
	t.Fatal(msg)
}

func TestParseDoc(t *testing.T) {
	doc := "# T\n\n<!-- not run: needs a terminal -->\n```sh\nhush keygen --passphrase\n```\n\n" +
		"1. step\n\n   <!-- as: bob -->\n   <!-- setup:\n   mkdir d\n   cd d\n   -->\n   <!-- replace: age1bob... => \"$BOB\" -->\n   ```sh\n   hush init -r age1bob...\n     indented\n   ```\n\n" +
		"```yaml\nenv:\n  HUSH_STORE: s.age  # the store\n  HUSH_IDENTITY: ${{ secrets.KEY }}\nsteps:\n  - uses: x@v1\n  - run: hush ls   # names\n```\n\n```json\n{}\n```\n"
	blocks, err := parseDoc("t.md", doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 4 {
		t.Fatalf("%d blocks, want 4", len(blocks))
	}
	if b := blocks[0]; b.skip != "needs a terminal" || b.line != 4 || !b.runnable() {
		t.Errorf("block 1: %+v", b)
	}
	if b := blocks[1]; b.as != "bob" || len(b.setup) != 1 || b.setup[0] != "mkdir d\ncd d" ||
		b.replace[0] != [2]string{"age1bob...", `"$BOB"`} || b.body != "hush init -r age1bob...\n  indented\n" {
		t.Errorf("block 2: %+v", b)
	}
	if b := blocks[2]; !b.runnable() || !strings.Contains(ciScript(b.body), "export HUSH_STORE='s.age'\nexport HUSH_IDENTITY=''\"${secrets_KEY}\"''\nhush ls\n") {
		t.Errorf("block 3: %+v\n%s", b, ciScript(b.body))
	}
	if blocks[3].runnable() {
		t.Errorf("a json block runs")
	}
	for _, bad := range []string{
		"```\nhush ls\n```\n",                             // untagged
		"```console\n$ hush ls\n```\n",                    // unknown language
		"<!-- not run: -->\n```sh\nhush ls\n```\n",        // no reason
		"<!-- as: bob -->\ntext\n```sh\nhush ls\n```\n",   // stray marker
		"<!-- replace: x => y -->\n```sh\nhush ls\n```\n", // nothing to replace
		"<!-- setup: true -->\n```json\n{}\n```\n",        // setup on a block that does not run
		"<!-- a remark -->\n```sh\nhush ls\n```\n",        // not a marker
		"```sh\nhush ls\n",                                // unterminated
		"<!-- not run: reason -->\n",                      // marker with no fence
		"<!-- setup: true\n```sh\nhush ls\n```\n",         // unterminated comment
	} {
		if _, err := parseDoc("bad.md", bad); err == nil {
			t.Errorf("parseDoc accepted %q", bad)
		}
	}
}
