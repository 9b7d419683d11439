package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChildEnvDocumented checks that docs/CLI.md lists every variable
// hush exec keeps from the store, the identity variables it removes and
// the minimum --pristine keeps, so the documented list is the list.
func TestChildEnvDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "CLI.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "## `hush exec`: the child's environment")
	if i < 0 {
		t.Fatal("docs/CLI.md has no section \"`hush exec`: the child's environment\"")
	}
	sec := doc[i:]
	if j := strings.Index(sec[3:], "\n## "); j >= 0 {
		sec = sec[:j+3]
	}
	var want []string
	for _, v := range loaderVars {
		want = append(want, "`"+v+"`")
	}
	for _, p := range loaderPrefixes {
		want = append(want, "`"+p+"*`")
	}
	for _, v := range append(identityVars, pristineVars...) {
		want = append(want, "`"+v+"`")
	}
	for _, w := range want {
		if !strings.Contains(sec, w) {
			t.Errorf("the exec section of docs/CLI.md does not list %s", w)
		}
	}
}

// TestLoaderVar pins the matching rule: exact names and prefixes, any case.
func TestLoaderVar(t *testing.T) {
	for name, want := range map[string]bool{
		"PATH": true, "path": true, "LD_PRELOAD": true, "Ld_Audit": true,
		"BASH_ENV": true, "ENV": true, "GIT_SSH_COMMAND": true, "HUSH_IDENTITY": true,
		"LUA_INIT_5_4": true, "DYLD_INSERT_LIBRARIES": true,
		"APP_PATH": false, "PATHS": false, "ENVIRONMENT": false, "DB_URL": false,
		"GITHUB_TOKEN": false, "LDAP_PASSWORD": false, "HUSHED": false,
	} {
		if got := loaderVar(name); got != want {
			t.Errorf("loaderVar(%q) = %v, want %v", name, got, want)
		}
	}
}
