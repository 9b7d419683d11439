package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// TestEscapesNeverPrintedRaw: a description with a terminal escape, set
// by anyone who can write the store, and a name with a bidi control or a
// zero-width character, from a store written before such names were
// refused, are printed escaped by ls, ls -l and git textconv (they were
// printed raw, and the names looked like other names).
func TestEscapesNeverPrintedRaw(t *testing.T) {
	dir := t.TempDir()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idPath := filepath.Join(dir, "id.txt")
	if err := os.WriteFile(idPath, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `{"version":1,"recipients":["` + id.Recipient().String() + `"],"entries":{` +
		`"API\u200bKEY":{"value":"v1"},"EXE\u202etxt.sh":{"value":"v2"},"PLAIN":{"value":"v3","description":"\u001b]0;owned\u0007\u001b[2J"}}}`
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(doc))
	w.Close()
	storePath := filepath.Join(dir, "store.age")
	if err := os.WriteFile(storePath, ct.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + dir, "XDG_STATE_HOME=" + filepath.Join(dir, "state")}
	base := []string{"--store", storePath, "-i", idPath}
	for _, args := range [][]string{{"ls"}, {"ls", "-l"}, {"git", "textconv", storePath}} {
		out := string(runHushInProcess(t, env, "", append(base, args...)...))
		for _, raw := range []string{"\x1b", "\x07", "\u202e", "\u200b"} {
			if strings.Contains(out, raw) {
				t.Errorf("hush %s printed %q raw:\n%q", strings.Join(args, " "), raw, out)
			}
		}
		for _, want := range []string{`"API\u200bKEY"`, `"EXE\u202etxt.sh"`} {
			if !strings.Contains(out, want) {
				t.Errorf("hush %s does not show %s:\n%s", strings.Join(args, " "), want, out)
			}
		}
	}
	if out := string(runHushInProcess(t, env, "", append(base, "ls", "-l")...)); !strings.Contains(out, `"\x1b]0;owned\a\x1b[2J"`) {
		t.Errorf("ls -l does not show the description escaped:\n%s", out)
	}
	// JSON escapes control characters itself (format characters are data
	// there, valid in a JSON string).
	if out := string(runHushInProcess(t, env, "", append(base, "ls", "--json")...)); strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("ls --json printed a control character raw:\n%q", out)
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"PLAIN_name-1.x": "PLAIN_name-1.x",
		"ünïcødé 日本 😀":   "ünïcødé 日本 😀",
		"a description":  "a description",
		"\ufffd":         "\ufffd", // an encoded replacement character is printable
		"bad\xff":        `"bad\xff"`,
		"esc\x1b[31m":    `"esc\x1b[31m"`,
		"tab\there":      `"tab\there"`,
		"nl\n":           `"nl\n"`,
		"bidi\u202e":     `"bidi\u202e"`,
		"zw\u200bsp":     `"zw\u200bsp"`,
		"nbsp\u00a0":     `"nbsp\u00a0"`,
		"c1\u009b":       `"c1\u009b"`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %s, want %s", in, got, want)
		}
	}
}
