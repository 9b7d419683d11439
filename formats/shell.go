package formats

import (
	"bytes"
	"io"
)

// WriteShell writes secrets as POSIX shell assignments,
//
//	export NAME='value'
//
// one per secret in the order given, so that `eval "$(hush export --format
// shell)"` in bash, dash or any POSIX sh sets each variable to its exact
// value: single quotes keep every byte literally, and a single quote in a
// value closes the quotes, adds an escaped quote and reopens them:
//
//	export NAME='it'\''s'
//
// A shell variable cannot hold a NUL byte, and only names made of letters,
// digits and "_" (not starting with a digit) are variables. A secret that
// breaks either rule is left out rather than corrupted; the others are
// written and a *SkipError lists what was left out. The same name given
// twice is an error, and nothing is written.
func WriteShell(w io.Writer, secrets []Secret) error {
	if err := checkDuplicates("export", secrets); err != nil {
		return err
	}
	var b bytes.Buffer
	skip := &SkipError{Format: "shell"}
	for _, s := range secrets {
		switch {
		case !ValidEnvName(s.Name):
			skip.Skipped = append(skip.Skipped, Skip{s.Name, "not a shell variable name"})
			continue
		case bytes.IndexByte(s.Value, 0) >= 0:
			skip.Skipped = append(skip.Skipped, Skip{s.Name, "value contains a NUL byte, which a shell variable cannot hold"})
			continue
		}
		b.WriteString("export ")
		b.WriteString(s.Name)
		b.WriteString("='")
		b.Write(bytes.ReplaceAll(s.Value, []byte("'"), []byte(`'\''`)))
		b.WriteString("'\n")
	}
	return finishExport(w, &b, skip)
}

// ValidEnvName reports whether name is a portable environment variable
// name: a letter or "_" followed by letters, digits and "_".
func ValidEnvName(name string) bool {
	if name == "" || !isNameStart(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isNameStart(c) && !('0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
