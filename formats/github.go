package formats

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// WriteGitHub writes secrets for a GitHub Actions step, in the order given:
//
//   - on masks, which the step's standard output should be, an
//     "::add-mask::LINE" workflow command for every non-blank line of
//     every value (the runner masks line by line), with "%", CR and LF in
//     LINE escaped as %25, %0D and %0A as workflow commands require;
//
//   - on env, the file named by $GITHUB_ENV, every secret in the runner's
//     multi-line syntax,
//
//     NAME<<ghadelimiter_RANDOM
//     VALUE
//     ghadelimiter_RANDOM
//
//     with a fresh random delimiter that the value does not contain, so
//     that no value can end its own assignment or start another.
//
// All the masks are written before any value. An environment variable
// cannot hold a NUL byte, the runner reads $GITHUB_ENV as UTF-8, and its
// names are letters, digits and "_": a secret that breaks one of these is
// left out; the others are written and a *SkipError lists what was left
// out. The same name given twice is an error, and nothing is written.
func WriteGitHub(masks, env io.Writer, secrets []Secret) error {
	return writeGitHub(masks, env, secrets, rand.Reader)
}

// writeGitHub is WriteGitHub reading delimiters from random.
func writeGitHub(masks, env io.Writer, secrets []Secret, random io.Reader) error {
	if err := checkDuplicates("export", secrets); err != nil {
		return err
	}
	var m, e bytes.Buffer
	defer func() { clear(m.Bytes()); clear(e.Bytes()) }()
	skip := &SkipError{Format: "github"}
	for _, s := range secrets {
		switch {
		case !ValidEnvName(s.Name):
			skip.Skipped = append(skip.Skipped, Skip{s.Name, "not an environment variable name"})
			continue
		case bytes.IndexByte(s.Value, 0) >= 0:
			skip.Skipped = append(skip.Skipped, Skip{s.Name, "value contains a NUL byte, which an environment variable cannot hold"})
			continue
		case !utf8.Valid(s.Value):
			skip.Skipped = append(skip.Skipped, Skip{s.Name, "value is not valid UTF-8, which $GITHUB_ENV cannot hold"})
			continue
		}
		writeMasks(&m, s.Value)
		delim, err := githubDelimiter(s.Value, random)
		if err != nil {
			return err
		}
		e.WriteString(s.Name + "<<" + delim + "\n")
		e.Write(s.Value)
		e.WriteString("\n" + delim + "\n")
	}
	if _, err := masks.Write(m.Bytes()); err != nil {
		return fmt.Errorf("formats: github export: %w", err)
	}
	return finishExport(env, &e, skip)
}

// writeMasks writes an ::add-mask:: command for each line of v that is not
// blank: masking a blank would hide every blank in the log.
func writeMasks(b *bytes.Buffer, v []byte) {
	for _, line := range bytes.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		b.WriteString("::add-mask::")
		b.WriteString(escapeCommandData(string(line)))
		b.WriteByte('\n')
	}
}

// escapeCommandData escapes the data of a workflow command as the runner
// unescapes it.
func escapeCommandData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// githubDelimiter returns a random delimiter that v does not contain.
func githubDelimiter(v []byte, random io.Reader) (string, error) {
	for range 8 {
		var r [16]byte
		if _, err := io.ReadFull(random, r[:]); err != nil {
			return "", fmt.Errorf("formats: github export: reading random bytes: %w", err)
		}
		d := "ghadelimiter_" + hex.EncodeToString(r[:])
		if !bytes.Contains(v, []byte(d)) {
			return d, nil
		}
	}
	return "", fmt.Errorf("formats: github export: no random delimiter absent from a value after 8 tries")
}
