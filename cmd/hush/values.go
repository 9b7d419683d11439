package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/hush-secrets/hush/internal/inputfile"
	"github.com/hush-secrets/hush/store"
)

// readValue reads the value of hush set from the source o names.
func (a *app) readValue(o setOptions) ([]byte, error) {
	switch o.FromFile {
	case "":
	case "-":
		if fd, ok := a.stdinTerminal(); ok && hiddenToEnd {
			return a.readHiddenToEnd(fd, "value for "+o.Name)
		}
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
		return a.promptTwice(fd, "value for "+o.Name,
			fmt.Sprintf("for a value of several lines use --from-file FILE, or pipe it: hush set %s < FILE", o.Name))
	}
	if a.stdinNothing() {
		return nil, withHint(fmt.Errorf("no value: standard input is %s, not a terminal, a pipe or a file", os.DevNull),
			"pipe the value in (printf '%%s' \"$VALUE\" | hush set %s) or use --from-file FILE", o.Name)
	}
	if o.KeepNewline {
		return readAllLimited(a.stdin, "standard input")
	}
	// The newline that ends the input is not part of the value, nor of
	// its limit: 4 MiB and a newline is a value of 4 MiB.
	v, err := io.ReadAll(io.LimitReader(a.stdin, store.MaxValueLen+3))
	if err != nil {
		clear(v)
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	if bytes.HasSuffix(v, []byte("\r\n")) {
		v = v[:len(v)-2]
	} else {
		v = bytes.TrimSuffix(v, []byte("\n"))
	}
	if len(v) > store.MaxValueLen {
		clear(v)
		return nil, overLimit("standard input")
	}
	return v, nil
}

// overLimit is the error for a value past store.MaxValueLen read from what.
func overLimit(what string) error {
	return fmt.Errorf("%s: %w: a value is at most %d bytes", what, store.ErrLimit, store.MaxValueLen)
}

// readHiddenToEnd reads the exact bytes typed on the terminal fd, up to
// the end of input (^D on an empty line), with echo off: --from-file - on
// a terminal, for a value of several lines. The prompt goes to the
// controlling terminal (or to stderr without one).
func (a *app) readHiddenToEnd(fd int, what string) ([]byte, error) {
	var out io.Writer = a.stderr
	if t, err := a.tty(); err == nil {
		defer t.Close()
		out = t
	}
	a.watchSignals()
	state, err := term.GetState(fd)
	if err != nil {
		return nil, fmt.Errorf("reading from the terminal: %w", err)
	}
	fmt.Fprintf(out, "enter %s, then press Ctrl-D on an empty line (nothing is shown):\n", what)
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, _, err := readNoEcho(fd, true, store.MaxValueLen)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("reading from the terminal: %w", r.err)
		}
		if len(r.b) > store.MaxValueLen {
			clear(r.b)
			return nil, overLimit("the terminal")
		}
		return r.b, nil
	case <-a.ctx.Done():
		term.Restore(fd, state)
		return nil, errors.New("interrupted; nothing was written")
	}
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
		return nil, overLimit(what)
	}
	return b, nil
}
