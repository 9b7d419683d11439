package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

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

// maxAnswer bounds one answer typed at a prompt; a terminal's line is at
// most 4 KiB, so a longer one was pasted.
const maxAnswer = 64 << 10

// pasted is the error for a paste of several lines at a prompt: every line
// was read (none is left for the shell to run once hush exits) and thrown
// away.
func (a *app) pasted(what, hint string) error {
	clear(a.ahead)
	a.ahead = nil
	return withHint(fmt.Errorf("%s: several lines were pasted at the prompt; all of them were read and discarded, nothing was written", what), "%s", hint)
}

// aheadLines counts the lines waiting in a.ahead; a last line without its
// newline counts as one.
func (a *app) aheadLines() int {
	n := bytes.Count(a.ahead, []byte("\n"))
	if len(a.ahead) > 0 && a.ahead[len(a.ahead)-1] != '\n' {
		n++
	}
	return n
}

// readHidden writes prompt to out and reads one line from fd with echo
// off; the newline is not part of it. Whatever came in right behind the
// line (typed ahead, or the rest of a paste) is taken off the terminal at
// once, so that no shell reads it once hush exits, and kept in a.ahead:
// each later prompt of this process takes its answer from there first,
// and what no prompt takes is discarded. An interrupt (ctx ends) restores
// the terminal's echo and returns at once.
func (a *app) readHidden(fd int, out io.Writer, prompt string) ([]byte, error) {
	fmt.Fprintf(out, "%s: ", prompt)
	if len(a.ahead) > 0 {
		fmt.Fprint(out, "\n")
		i := bytes.IndexByte(a.ahead, '\n')
		if i < 0 {
			// A last line never entered: the tail of a paste.
			return nil, a.pasted(strings.TrimPrefix(prompt, "hush: "), "type the answer, then Enter")
		}
		line := bytes.Clone(bytes.TrimSuffix(a.ahead[:i], []byte("\r")))
		clear(a.ahead[:i+1])
		a.ahead = a.ahead[i+1:]
		return line, nil
	}
	a.watchSignals()
	state, err := term.GetState(fd)
	if err != nil {
		return nil, fmt.Errorf("reading from the terminal: %w", err)
	}
	type result struct {
		b, rest []byte
		err     error
	}
	done := make(chan result, 1)
	go func() {
		b, rest, err := readNoEcho(fd, false, maxAnswer)
		done <- result{b, rest, err}
	}()
	select {
	case r := <-done:
		fmt.Fprint(out, "\n")
		if r.err != nil {
			return nil, fmt.Errorf("reading from the terminal: %w", r.err)
		}
		// An end of input (^D) typed behind the answer is no paste:
		// the terminal queues it as a NUL, or as itself.
		a.ahead = bytes.TrimRight(r.rest, "\x00\x04")
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
//
// A paste of several lines is read whole, so that no line of it is left
// for the shell to run, and refused with pasteHint. A single line that
// came in behind the first is taken as the second entry (typed ahead);
// when it does not match, the hint says it was likely a paste.
func (a *app) promptTwice(in int, what, pasteHint string) ([]byte, error) {
	var out io.Writer = a.stderr
	if t, err := a.tty(); err == nil {
		defer t.Close()
		out = t
	}
	first, err := a.readHidden(in, out, "enter "+what)
	if err != nil {
		return nil, err
	}
	typedAhead := len(a.ahead) > 0
	if a.aheadLines() > 1 {
		clear(first)
		return nil, a.pasted(what, pasteHint)
	}
	if len(first) == 0 && !typedAhead {
		return nil, withHint(fmt.Errorf("empty %s; nothing was written", what), "to store an empty value, pipe it: printf '' | hush set NAME")
	}
	second, err := a.readHidden(in, out, "enter "+what+" again")
	if err != nil {
		clear(first)
		return nil, err
	}
	defer clear(second)
	if len(a.ahead) > 0 {
		clear(first)
		return nil, a.pasted(what, pasteHint)
	}
	if !bytes.Equal(first, second) {
		clear(first)
		err := fmt.Errorf("the two entries of %s did not match; nothing was written", what)
		if typedAhead {
			return nil, withHint(err, "the second line came in with the first: if that was a paste of several lines, %s", pasteHint)
		}
		return nil, withHint(err, "type the same %s twice", what)
	}
	if len(first) == 0 {
		return nil, withHint(fmt.Errorf("empty %s; nothing was written", what), "to store an empty value, pipe it: printf '' | hush set NAME")
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
		return a.promptTwice(fd, "passphrase", "a passphrase is one line; type it, or pipe it on standard input")
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
