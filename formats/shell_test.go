package formats

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shellValues are values a shell's eval must get back exactly.
var shellValues = []string{
	"plain",
	"",
	"it's",
	"''''",
	`'\''`,
	`"double" and 'single'`,
	"$HOME ${PATH} $(echo no) $((1+1))",
	"`echo no`",
	`back\slash \n \\ \`,
	"line one\nline two",
	"trailing newline\n\n",
	"\ncrlf\r\n",
	"-n",
	"-e -E --",
	"  leading and trailing blanks  ",
	"tab\there",
	"!history !! ^a^b",
	"* ? [a-z] ~ ~root",
	"; rm -rf / ; echo no",
	"a\x01\x7fb",
	"h\u00e9llo \u2713",
	"not utf8 \xff\xfe\xc3",
	"#comment",
	"=equals=",
}

// TestWriteShellEval evaluates WriteShell's output in bash and in sh and
// compares every variable with its value, byte for byte.
func TestWriteShellEval(t *testing.T) {
	var secrets []Secret
	var names []string
	for i, v := range shellValues {
		n := fmt.Sprintf("V%d", i)
		names = append(names, n)
		secrets = append(secrets, Secret{Name: n, Value: []byte(v)})
	}
	var b bytes.Buffer
	if err := WriteShell(&b, secrets); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "export.sh")
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// Print each variable followed by a NUL (no value holds one), then
	// check they are exported to a child process too.
	var script strings.Builder
	script.WriteString(`eval "$(cat "$1")"; printf '%s\0'`)
	for _, n := range names {
		script.WriteString(` "$` + n + `"`)
	}
	script.WriteString(`; env | grep -c '^V[0-9]*=' >&2`)
	shells := 0
	for _, sh := range []string{"bash", "sh", "dash"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			continue
		}
		shells++
		cmd := exec.Command(path, "-c", script.String(), sh, file)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v: %s", sh, err, stderr.String())
		}
		got := strings.Split(string(out), "\x00")
		if len(got) != len(shellValues)+1 {
			t.Fatalf("%s printed %d values, want %d", sh, len(got)-1, len(shellValues))
		}
		for i, want := range shellValues {
			if got[i] != want {
				t.Errorf("%s: $V%d = %q, want %q", sh, i, got[i], want)
			}
		}
		if n := strings.TrimSpace(stderr.String()); n != fmt.Sprint(len(shellValues)) {
			t.Errorf("%s: %s variables exported to a child, want %d", sh, n, len(shellValues))
		}
	}
	if shells == 0 {
		t.Skip("no shell found")
	}
}

// TestWriteShellSkips: what a shell variable cannot hold is left out with
// a SkipError naming it, never written corrupted; the rest is written.
func TestWriteShellSkips(t *testing.T) {
	var b bytes.Buffer
	err := WriteShell(&b, sec("OK", "1", "NUL", "a\x00b", "has-dash", "2", "dotted.name", "3", "9X", "4", "LAST", "5"))
	var se *SkipError
	if !errors.As(err, &se) || !errors.Is(err, ErrSkipped) {
		t.Fatalf("WriteShell = %v, want a SkipError", err)
	}
	var skipped []string
	for _, s := range se.Skipped {
		skipped = append(skipped, s.Name)
	}
	if strings.Join(skipped, ",") != "NUL,has-dash,dotted.name,9X" {
		t.Errorf("skipped %v", skipped)
	}
	if b.String() != "export OK='1'\nexport LAST='5'\n" {
		t.Errorf("wrote %q", b.String())
	}
	if !strings.Contains(err.Error(), "NUL byte") || strings.Contains(err.Error(), "a\x00b") {
		t.Errorf("error %q", err)
	}
}

func TestWriteJSONSkips(t *testing.T) {
	var b bytes.Buffer
	err := WriteJSON(&b, sec("OK", "<&>", "BIN", "\xff", "LAST", "x\ny"))
	var se *SkipError
	if !errors.As(err, &se) || len(se.Skipped) != 1 || se.Skipped[0].Name != "BIN" {
		t.Fatalf("WriteJSON = %v, want BIN skipped", err)
	}
	if want := "{\n  \"OK\": \"<&>\",\n  \"LAST\": \"x\\ny\"\n}\n"; b.String() != want {
		t.Errorf("wrote %q, want %q", b.String(), want)
	}
	b.Reset()
	if err := WriteJSON(&b, nil); err != nil || b.String() != "{}\n" {
		t.Errorf("empty: %q, %v", b.String(), err)
	}
}
