package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// ttyFile is an open terminal: prompts are written to it and input is read
// from it with echo off.
type ttyFile interface {
	io.ReadWriteCloser
	Fd() uintptr
}

// openTTY opens the controlling terminal. Without one (a daemon, a CI
// job, ssh without -t) it fails, and hush fails with a hint instead of
// prompting.
func openTTY() (ttyFile, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, errNoTerminal
	}
	if !term.IsTerminal(int(f.Fd())) {
		f.Close()
		return nil, errNoTerminal
	}
	return f, nil
}

// stdinTerminal returns stdin's file descriptor if standard input is a
// terminal.
func (a *app) stdinTerminal() (int, bool) {
	f, ok := a.stdin.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// stdinNothing reports whether standard input is a character device that
// is not a terminal (/dev/null: a CI job or a daemon with no input), where
// reading would silently give an empty value.
func (a *app) stdinNothing() bool {
	f, ok := a.stdin.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// readHidden writes prompt to out and reads one line from fd with echo
// off. The newline is not part of the result. An interrupt (ctx ends)
// restores the terminal's echo and returns at once.
func (a *app) readHidden(fd int, out io.Writer, prompt string) ([]byte, error) {
	a.watchSignals()
	state, err := term.GetState(fd)
	if err != nil {
		return nil, fmt.Errorf("reading from the terminal: %w", err)
	}
	fmt.Fprintf(out, "%s: ", prompt)
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprint(out, "\n")
		if r.err != nil {
			return nil, fmt.Errorf("reading from the terminal: %w", r.err)
		}
		return r.b, nil
	case <-a.ctx.Done():
		term.Restore(fd, state)
		fmt.Fprint(out, "\n")
		return nil, errors.New("interrupted; nothing was written")
	}
}

// promptTwice asks for a secret twice on the terminal, without echo, and
// returns it if both entries match. in is the terminal's descriptor; the
// prompts go to the controlling terminal (or to stderr without one).
func (a *app) promptTwice(in int, what string) ([]byte, error) {
	var out io.Writer = a.stderr
	if t, err := a.tty(); err == nil {
		defer t.Close()
		out = t
	}
	first, err := a.readHidden(in, out, "enter "+what)
	if err != nil {
		return nil, err
	}
	if len(first) == 0 {
		return nil, withHint(fmt.Errorf("empty %s; nothing was written", what), "to store an empty value, pipe it: printf '' | hush set NAME")
	}
	second, err := a.readHidden(in, out, "enter "+what+" again")
	if err != nil {
		clear(first)
		return nil, err
	}
	defer clear(second)
	if !bytes.Equal(first, second) {
		clear(first)
		return nil, withHint(fmt.Errorf("the two entries of %s did not match; nothing was written", what), "type the same %s twice", what)
	}
	return first, nil
}

// askPassphrase is the store.PassphraseFunc for passphrase-protected
// identity files and SSH keys: it asks on the controlling terminal, never
// on stdin (which may carry data), and remembers the answer for the rest of
// the process.
func (a *app) askPassphrase(prompt string) ([]byte, error) {
	if p, ok := a.passphrases[prompt]; ok {
		return bytes.Clone(p), nil
	}
	t, err := a.tty()
	if err != nil {
		// age flattens this error into its own; report() adds the hint.
		a.promptFailed = true
		return nil, fmt.Errorf("%s: no terminal to ask on", prompt)
	}
	defer t.Close()
	p, err := a.readHidden(int(t.Fd()), t, "hush: "+prompt)
	if err != nil {
		return nil, err
	}
	a.passphrases[prompt] = bytes.Clone(p)
	return p, nil
}

// readNewPassphrase gets a passphrase to encrypt something with: typed
// twice on the terminal when stdin is one, else the first line of stdin.
// Never from the command line.
func (a *app) readNewPassphrase() ([]byte, error) {
	if fd, ok := a.stdinTerminal(); ok {
		return a.promptTwice(fd, "passphrase")
	}
	line, err := readLine(a.stdin)
	if err != nil {
		return nil, err
	}
	if len(line) == 0 {
		return nil, withHint(errors.New("empty passphrase on standard input"),
			"run on a terminal to be prompted, or pipe the passphrase: hush keygen --passphrase < passfile")
	}
	return line, nil
}

// readLine reads up to the first newline (not included) of r, at most 64 KiB.
func readLine(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimSuffix(b, []byte("\r")), nil
}
