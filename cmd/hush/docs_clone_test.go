package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestREADMECIQuickStartAfterClone runs the README's CI quick start (its
// yaml block, verbatim, with its own setup and check) where a CI runs it:
// in a git clone made under umask 022, where git checks the store out
// 0644; then again after a pull that rewrites the store, and after a merge
// that brings a new version of it in. Nothing runs chmod. TestDocs runs
// the same block on the store its setup made (0600); the teammate's side,
// docs/TEAMS.md's worked example, clones, pulls and merges under umask 022
// in TestDocs itself.
func TestREADMECIQuickStartAfterClone(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the docs' examples need %s on PATH", tool)
		}
	}
	var ci docBlock
	for _, b := range readDoc(t, "README.md") {
		if b.lang == "yaml" && b.as == "ci" && strings.Contains(b.body, "hush exec") {
			ci = b
		}
	}
	if ci.body == "" || len(ci.setup) == 0 {
		t.Fatal("README.md has no yaml block of the ci member with a setup: where is the CI quick start?")
	}
	git := `export GIT_AUTHOR_NAME=dev GIT_AUTHOR_EMAIL=dev@example.com GIT_COMMITTER_NAME=dev GIT_COMMITTER_EMAIL=dev@example.com`
	step := func(as, setup string) docBlock {
		return docBlock{doc: "README.md-after-clone", lang: "sh", as: as, body: setup}
	}
	quickStart := func(what string) docBlock {
		b := ci
		b.doc, b.as, b.setup = "README.md-after-clone", "ci", nil
		b.check = append([]string{`test "$(stat -c %a deploy/secrets.age)" = 644 || { echo "docs-test: the store is not 0644 ` + what + `" >&2; exit 1; }`}, ci.check...)
		return b
	}
	blocks := []docBlock{
		// A developer makes the repository with the README's own setup
		// and pushes it.
		step("dev", git+"\ngit init -q --bare -b main \"$DOCS_ROOT/origin.git\"\ngit init -q -b main repo && cd repo"),
		step("dev", strings.Join(ci.setup, "\n")),
		step("dev", "echo .env >.gitignore\ngit add -A && git commit -qm 'deploy secrets' && git remote add origin \"$DOCS_ROOT/origin.git\" && git push -qu origin main"),
		// The CI clones it, under umask 022, and runs the quick start.
		step("ci", git+"\ngit clone -q \"$DOCS_ROOT/origin.git\" app && cd app"),
		quickStart("after a clone"),
		// A new version of the store comes in by a pull...
		step("dev", "echo extra | HUSH_IDENTITY=$secrets_HUSH_IDENTITY hush --store deploy/secrets.age set EXTRA\ngit commit -qam 'add EXTRA' && git push -q"),
		step("ci", "rm -f .env key.path\ngit pull -q --no-rebase"),
		quickStart("after a pull"),
		// ... and by a merge with a local commit.
		step("dev", "echo extra2 | HUSH_IDENTITY=$secrets_HUSH_IDENTITY hush --store deploy/secrets.age set EXTRA\ngit commit -qam 'change EXTRA' && git push -q"),
		step("ci", "rm -f .env key.path\necho note >NOTES && git add NOTES && git commit -qm 'local note'\ngit pull -q --no-rebase --no-edit\ntest \"$(git rev-list --merges --count HEAD)\" = 1"),
		quickStart("after a merge"),
	}
	for i := range blocks {
		blocks[i].line = i + 1 // each part file is named by its block's line
	}
	path := docsPath(t)
	runDoc(t, blocks, path)
}
