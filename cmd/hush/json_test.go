package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
)

// runHushInProcess runs hush in-process and fails the test on a non-zero exit.
func runHushInProcess(t *testing.T, env []string, stdin string, args ...string) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, strings.NewReader(stdin), &out, &errb, env); code != 0 {
		t.Fatalf("hush %v: exit %d: %s", args, code, errb.Bytes())
	}
	return out.Bytes()
}

// jsonFieldNames returns the sorted field names of the JSON object raw.
func jsonFieldNames(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not an object: %s", raw)
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestJSONFormats pins the field names of every --json output documented
// in docs/CLI.md: removing or renaming one is a breaking change.
func TestJSONFormats(t *testing.T) {
	env := []string{"HOME=" + t.TempDir()}
	runHushInProcess(t, env, "", "-q", "init")
	runHushInProcess(t, env, "v\n", "set", "A", "--description", "d")
	runHushInProcess(t, env, "v\n", "set", "OLD_x")
	runHushInProcess(t, env, "v\n", "--scope", "ci", "set", "T")

	check := func(name string, raw json.RawMessage, want ...string) {
		t.Helper()
		if got := jsonFieldNames(t, raw); !slices.Equal(got, want) {
			t.Errorf("%s: fields %v, want %v", name, got, want)
		}
	}
	var ls []json.RawMessage
	if err := json.Unmarshal(runHushInProcess(t, env, "", "ls", "--json"), &ls); err != nil || len(ls) != 2 {
		t.Fatalf("ls --json: %v, %d entries", err, len(ls))
	}
	check("ls --json", ls[0], "created", "description", "name", "updated")
	if err := json.Unmarshal(runHushInProcess(t, env, "", "ls", "--json", "--system"), &ls); err != nil || len(ls) != 1 {
		t.Fatalf("ls --json --system: %v, %d entries", err, len(ls))
	}
	check("ls --json --system", ls[0], "created", "description", "name", "scope", "updated")

	var rs []string
	if err := json.Unmarshal(runHushInProcess(t, env, "", "recipients", "ls", "--json"), &rs); err != nil || len(rs) != 1 || !strings.HasPrefix(rs[0], "age1") {
		t.Fatalf("recipients ls --json: %v, %q", err, rs)
	}

	plan := runHushInProcess(t, env, "", "migrate", "plan", "--rule", "OLD_=new", "--json")
	check("migrate plan --json", plan, "clashes", "done", "moves", "name")
	var p struct{ Moves []json.RawMessage }
	json.Unmarshal(plan, &p)
	if len(p.Moves) != 1 {
		t.Fatalf("plan: %s", plan)
	}
	check("migrate plan --json moves[0]", p.Moves[0], "new", "old", "scope")
	check("migrate apply --json", runHushInProcess(t, env, "", "migrate", "apply", "--rule", "OLD_=new", "--json"),
		"already_done", "already_present", "clashes", "moved", "name", "recorded", "skipped")

	doc := runHushInProcess(t, env, "", "doctor", "--json")
	check("doctor --json", doc, "checks", "ok")
	var d struct{ Checks []json.RawMessage }
	json.Unmarshal(doc, &d)
	if len(d.Checks) == 0 {
		t.Fatalf("doctor: %s", doc)
	}
	check("doctor --json checks[0]", d.Checks[0], "detail", "name", "ok")
	check("version --json", runHushInProcess(t, env, "", "version", "--json"), "format_version", "go", "version")
}
