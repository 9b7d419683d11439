package dotenvcheck

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/formats"
)

// TestDotenvExport exports the corpus with formats.WriteDotenv, has every
// installed parser read the file, and compares each value byte for byte.
// It logs a score per parser (values read exactly / values in the corpus)
// and fails when a parser misreads a value that is not in its list of
// known misreads (docs/CLI.md, "dotenv", documents each).
func TestDotenvExport(t *testing.T) {
	secrets := corpus()
	var b bytes.Buffer
	err := formats.WriteDotenv(&b, secrets)
	var skip *formats.SkipError
	left := map[string]bool{}
	if errors.As(err, &skip) {
		for _, s := range skip.Skipped {
			left[s.Name] = true
		}
	} else if err != nil {
		t.Fatal(err)
	}
	if want := []string{"V_INVALID_UTF8", "V_NUL"}; !equalKeys(left, want) {
		t.Errorf("left out %v; want exactly %v (a NUL byte or invalid UTF-8, which no common parser reads)", keys(left), want)
	}
	file := filepath.Join(t.TempDir(), "export.env")
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(secrets))
	for i, s := range secrets {
		names[i] = s.Name
	}

	var scores []string
	for _, p := range parsers(t) {
		if p.skip != "" {
			t.Logf("%-8s skipped: %s", p.name, p.skip)
			scores = append(scores, fmt.Sprintf("%-8s skipped", p.name))
			continue
		}
		got, readErr := p.read(t, file, names)
		if readErr != nil {
			t.Errorf("%s (%s) refused the whole file: %.200s", p.name, p.version, readErr)
		}
		exact := 0
		var misread []string
		for _, s := range secrets {
			v, ok := got[s.Name]
			if ok && bytes.Equal(v, s.Value) {
				exact++
				continue
			}
			if left[s.Name] {
				continue // left out on purpose, with a warning
			}
			misread = append(misread, s.Name)
			known, isKnown := knownMisreads[p.name][s.Name]
			switch {
			case isKnown:
				t.Logf("%-8s %s: misread (known: %s)", p.name, s.Name, known)
			case readErr != nil:
				// reported once above
			case !ok:
				t.Errorf("%s (%s) lost %s", p.name, p.version, s.Name)
			default:
				t.Errorf("%s (%s) misread %s: got %q, want %q", p.name, p.version, s.Name, clip(v), clip(s.Value))
			}
		}
		for name := range knownMisreads[p.name] {
			if !contains(misread, name) {
				t.Logf("%-8s %s: listed as a known misread but read exactly", p.name, name)
			}
		}
		scores = append(scores, fmt.Sprintf("%-8s %2d/%d exact  (%s)", p.name, exact, len(secrets), p.version))
	}
	t.Logf("dotenv export of %d values, read back by each parser:\n\t%s", len(secrets), strings.Join(scores, "\n\t"))
}

// knownMisreads lists, per parser, the corpus values that no encoding
// lets it read exactly together with the others, and why. Keep it in
// step with docs/CLI.md.
var knownMisreads = map[string]map[string]string{
	"compose": {
		"V_QUOTE_BACKTICKS": "' and a backtick: double quotes with \\` (so that bash runs nothing), which compose keeps",
	},
	"godotenv": {
		"V_BOTH_QUOTES":              "double-quoted and ending in a double quote, which godotenv trims",
		"V_QUOTE_TRAILING_BACKSLASH": "double-quoted and ending in a backslash: read on to the guard line",
	},
	"npm": {
		"V_BOTH_QUOTES":              npmDouble,
		"V_QUOTE_DOLLAR":             npmDouble,
		"V_QUOTE_BACKTICKS":          npmDouble,
		"V_QUOTE_TRAILING_BACKSLASH": "double-quoted and ending in a backslash: read on to the guard line",
		"V_CR":                       "npm dotenv turns every CR into LF before parsing",
	},
	"python": {
		"V_DOUBLE_BACKSLASH":         "\\\\ is an escape even in single quotes",
		"V_DOLLAR_BRACE":             "${...} is interpolated, even in single quotes",
		"V_DOLLAR_DEFAULT":           "${...} is interpolated, even in single quotes",
		"V_QUOTE_DOLLAR":             "in double quotes \\$ is not an escape",
		"V_QUOTE_BACKTICKS":          "in double quotes \\` is not an escape",
		"V_QUOTE_TRAILING_BACKSLASH": "double-quoted and ending in a backslash: read on to the guard line",
		"V_CR":                       "the file is read with universal newlines: CR becomes LF",
	},
	"systemd": {
		"V_CRLF":               "a CR is written \\r in double quotes, which systemd does not decode",
		"V_QUOTE_CRLF":         "a CR is written \\r in double quotes, which systemd does not decode",
		"V_TRAILING_BACKSLASH": "ends in a backslash: written unquoted, where a backslash escapes",
		"V_WINDOWS_DIR":        "ends in a backslash: written unquoted, where a backslash escapes",
		"V_ONLY_BACKSLASH":     "ends in a backslash: written unquoted, where a backslash escapes",
	},
}

const npmDouble = "in double quotes npm dotenv decodes \\n and \\r only, not \\\" \\\\ \\$ \\`"

func init() {
	// bash reads unquoted and double-quoted values as systemd does.
	knownMisreads["bash"] = knownMisreads["systemd"]
}

func clip(b []byte) []byte {
	if len(b) > 60 {
		return append(b[:60:60], "..."...)
	}
	return b
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func equalKeys(m map[string]bool, want []string) bool {
	got := keys(m)
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
