package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hush-secrets/hush/internal/inputfile"
	"github.com/hush-secrets/hush/store"
)

// readValue reads the value of hush set from the source o names.
func (a *app) readValue(o setOptions) ([]byte, error) {
	switch o.FromFile {
	case "":
	case "-":
		return readAllLimited(a.stdin, "standard input")
	default:
		f, _, err := inputfile.Open(o.FromFile)
		if err != nil {
			if errors.Is(err, inputfile.ErrNotRegular) && a.isStdin(o.FromFile) {
				return readAllLimited(a.stdin, o.FromFile)
			}
			return nil, err
		}
		defer f.Close()
		return readAllLimited(f, o.FromFile)
	}
	if fd, ok := a.stdinTerminal(); ok {
		return a.promptTwice(fd, "value for "+o.Name)
	}
	if a.stdinNothing() {
		return nil, withHint(fmt.Errorf("no value: standard input is %s, not a terminal, a pipe or a file", os.DevNull),
			"pipe the value in (printf '%%s' \"$VALUE\" | hush set %s) or use --from-file FILE", o.Name)
	}
	v, err := readAllLimited(a.stdin, "standard input")
	if err != nil {
		return nil, err
	}
	if !o.KeepNewline {
		if bytes.HasSuffix(v, []byte("\r\n")) {
			v = v[:len(v)-2]
		} else {
			v = bytes.TrimSuffix(v, []byte("\n"))
		}
	}
	return v, nil
}

// readAllLimited reads r to the end; more than store.MaxValueLen bytes is
// an error wrapping store.ErrLimit (what names r in the messages).
func readAllLimited(r io.Reader, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, store.MaxValueLen+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if len(b) > store.MaxValueLen {
		clear(b)
		return nil, fmt.Errorf("%s: %w: a value is at most %d bytes", what, store.ErrLimit, store.MaxValueLen)
	}
	return b, nil
}
