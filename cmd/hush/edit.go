package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/store"
)

// editOptions are the arguments of hush edit.
type editOptions struct {
	Name string
}

// editSetup is what hush edit takes from outside the store: the editor,
// where its file may live, what the editor inherits, and the signals that
// stop hush.
type editSetup struct {
	Editor   string   // a command; run through /bin/sh when it holds blanks or shell syntax
	MemDirs  []string // directories on memory file systems, tried in order
	Fallback string   // used, with a warning, when none of MemDirs can be used
	Env      []string // the editor's environment
	Stdin    io.Reader
	Stdout   io.Writer
	Stderr   io.Writer
	Signals  <-chan os.Signal // SIGINT, SIGTERM and SIGHUP sent to hush
	Warnf    func(format string, args ...any)
}

// editorGrace is how long hush waits for the editor to exit after passing
// it SIGTERM or SIGHUP, before it kills it.
const editorGrace = 2 * time.Second

func (a *app) editCmd() *cobra.Command {
	var o editOptions
	cmd := &cobra.Command{
		Use:   "edit NAME",
		Short: "edit a secret in $VISUAL or $EDITOR (a new NAME starts empty)",
		Long: `Edit the value of NAME in $VISUAL, else $EDITOR, else vi. A NAME that does
not exist starts empty and is created when you save something.

The value is put in a file readable by you only (0600), in a private
directory (0700) on a memory file system: $XDG_RUNTIME_DIR, else /dev/shm.
Where there is neither, the directory is made in $TMPDIR (else /tmp) with
a warning, as that may be a disk. The directory is removed however hush
ends, SIGINT, SIGTERM and SIGHUP included (SIGKILL cannot be caught; a
memory file system at least does not outlive a reboot).

The file holds the value and a newline; when the editor exits, one
trailing newline is dropped, as 'hush set' does with piped input. If the
file is unchanged, nothing is written. If NAME changed in the store while
you edited, nothing is written (exit 4).

While the editor runs, Ctrl-C belongs to it, as with git and crontab -e.
SIGTERM or SIGHUP sent to hush is passed on to the editor; hush then
removes the file, writes nothing and dies of the same signal.`,
		Args: exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			sigs := make(chan os.Signal, 4)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer signal.Stop(sigs)
			if err := checkNames("edit", o.Name); err != nil {
				return err
			}
			p, _, err := a.openUnlocked(cmd.Context())
			if err != nil {
				return err
			}
			err = runEdit(cmd.Context(), p, o, a.editSetup(sigs))
			var se *signalError
			if errors.As(err, &se) {
				a.report(err)
				raise(se.sig)
			}
			return err
		},
	}
	cmd.ValidArgsFunction = a.completeNames(1)
	return cmd
}

// editSetup resolves the editor and the temporary directories from the
// environment.
func (a *app) editSetup(sigs <-chan os.Signal) editSetup {
	s := editSetup{
		Editor: "vi", MemDirs: []string{"/dev/shm"}, Fallback: a.getenv("TMPDIR"),
		Env: childEnv(a.env, false, nil), Stdin: a.stdin, Stdout: a.stdout, Stderr: a.stderr,
		Signals: sigs, Warnf: a.warnf,
	}
	for _, v := range []string{"VISUAL", "EDITOR"} {
		if e := a.getenv(v); strings.TrimSpace(e) != "" {
			s.Editor = e
			break
		}
	}
	if d := a.getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		s.MemDirs = []string{d, "/dev/shm"}
	}
	if !filepath.IsAbs(s.Fallback) {
		s.Fallback = "/tmp"
	}
	return s
}

// signalError stops hush edit on a signal; the command then dies of it.
type signalError struct {
	sig     os.Signal
	written bool // the store was written before the signal was seen
}

func (e *signalError) Error() string {
	if e.written {
		return fmt.Sprintf("edit: stopped by %v after the value was saved; the temporary file is removed", e.sig)
	}
	return fmt.Sprintf("edit: stopped by %v; nothing written, the temporary file is removed", e.sig)
}

// raise makes the process die of sig, as the shell and the parent expect
// of a command stopped by a signal. It returns only if that failed.
func raise(sig os.Signal) {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return
	}
	signal.Reset(s)
	syscall.Kill(syscall.Getpid(), s)
	time.Sleep(time.Second)
}

// runEdit lets the user edit the value of o.Name in s.Editor and stores
// the result in one change, unless the file was left unchanged. The
// temporary directory is removed on every return. It returns a
// *signalError if SIGTERM or SIGHUP (or SIGINT outside the editor) came;
// an error wrapping errRefused if the value changed in the store while
// the editor ran; the editor's failure, or the store's errors.
func runEdit(ctx context.Context, p store.Provider, o editOptions, s editSetup) error {
	if err := checkNames("edit", o.Name); err != nil {
		return err
	}
	if sig := pendingSignal(s.Signals); sig != nil {
		return &signalError{sig: sig}
	}
	old, err := p.Get(ctx, o.Name)
	isNew := errors.Is(err, store.ErrNotFound)
	if err != nil && !isNew {
		return err
	}
	defer clear(old)
	if !utf8.Valid(old) || bytes.IndexByte(old, 0) >= 0 {
		s.Warnf("%s holds bytes that are not text; an editor may change them", o.Name)
	}
	content := old
	if !isNew {
		content = append(old[:len(old):len(old)], '\n')
		defer clear(content)
	}
	dir, err := s.privateDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, editFileName(o.Name))
	if err := writePrivate(path, content); err != nil {
		return err
	}
	if err := s.runEditor(path); err != nil {
		return err
	}
	edited, err := readEdited(path)
	os.RemoveAll(dir) // now, not after the store's write
	if err != nil {
		return err
	}
	defer clear(edited)
	value := dropNewline(edited)
	switch {
	case isNew && len(edited) == 0:
		s.Warnf("%s left empty; not created", o.Name)
		return nil
	case bytes.Equal(edited, content) || (!isNew && bytes.Equal(value, old)):
		s.Warnf("%s unchanged; nothing written", o.Name)
		return nil
	}
	if len(value) > store.MaxValueLen {
		return fmt.Errorf("edit %s: %w: the value is %d bytes, the limit is %d", o.Name, store.ErrLimit, len(value), store.MaxValueLen)
	}
	return writeEdited(ctx, p, o.Name, old, isNew, value, s.Signals)
}

// writeEdited stores value under name if name still holds old (or is
// still absent, when isNew). A signal cancels the wait for the lock; the
// write itself completes or leaves the store as it was.
func writeEdited(ctx context.Context, p store.Provider, name string, old []byte, isNew bool, value []byte, sigs <-chan os.Signal) error {
	if sig := pendingSignal(sigs); sig != nil {
		return &signalError{sig: sig}
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	got := make(chan os.Signal, 1)
	go func() {
		select {
		case sig := <-sigs:
			got <- sig
			cancel()
		case <-wctx.Done():
		}
	}()
	err := store.Update(wctx, p, func(tx store.Tx) error {
		cur, err := tx.Get(name)
		absent := errors.Is(err, store.ErrNotFound)
		if err != nil && !absent {
			return err
		}
		if absent != isNew || !bytes.Equal(cur, old) {
			clear(cur)
			return withHint(&store.KeyError{Op: "edit", Name: name, Err: fmt.Errorf("%w: it changed in the store while you edited; nothing written", errRefused)},
				"run 'hush edit %s' again", name)
		}
		return tx.Set(name, value)
	})
	cancel()
	select {
	case sig := <-got:
		return &signalError{sig: sig, written: err == nil}
	default:
	}
	return err
}

// pendingSignal returns a signal that has arrived, or nil.
func pendingSignal(sigs <-chan os.Signal) os.Signal {
	select {
	case sig := <-sigs:
		return sig
	default:
		return nil
	}
}

// privateDir makes a new 0700 directory on the first memory file system
// that allows it, else in the fallback directory with a warning.
func (s editSetup) privateDir() (string, error) {
	for _, base := range s.MemDirs {
		if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
			continue
		}
		if dir, err := mkdirPrivate(base); err == nil {
			return dir, nil
		}
	}
	s.Warnf("no memory file system ($XDG_RUNTIME_DIR, /dev/shm): the value is put in %s, which may be on disk", s.Fallback)
	dir, err := mkdirPrivate(s.Fallback)
	if err != nil {
		return "", fmt.Errorf("edit: making a private directory: %w", err)
	}
	return dir, nil
}

func mkdirPrivate(base string) (string, error) {
	dir, err := os.MkdirTemp(base, "hush-edit-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o700); err != nil { // the umask may have taken more
		os.Remove(dir)
		return "", err
	}
	return dir, nil
}

// writePrivate creates path, which must not exist, 0600 with content.
func writePrivate(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("edit: %w", err)
	}
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(content)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("edit: writing %s: %w", path, err)
	}
	return nil
}

// editFileName is the temporary file's name: the secret's name with what
// is not a letter, digit, '.', '_' or '-' replaced, so the editor shows
// which secret it is (and picks a mode from an extension such as .pem).
func editFileName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	if b[0] == '.' || b[0] == '-' {
		b[0] = '_'
	}
	return string(b)
}

// shellSyntax holds the characters for which git runs an editor command
// through the shell.
const shellSyntax = "|&;<>()$`\\\"' \t\n*?[#~=%"

// runEditor runs the editor on path and waits for it. SIGINT is left to
// the editor; SIGTERM and SIGHUP are passed on to it, and after it exits
// (or editorGrace, then a kill) runEditor returns a *signalError.
func (s editSetup) runEditor(path string) error {
	argv := []string{s.Editor, path}
	if strings.ContainsAny(s.Editor, shellSyntax) {
		argv = []string{"/bin/sh", "-c", s.Editor + ` "$@"`, s.Editor, path}
	} else if !strings.Contains(s.Editor, "/") {
		p, err := lookPath(s.Editor, s.Env)
		if err != nil {
			return withHint(fmt.Errorf("edit: editor %q: %w", s.Editor, err), "set VISUAL or EDITOR to your editor")
		}
		argv[0] = p
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = s.Env, s.Stdin, s.Stdout, s.Stderr
	if err := cmd.Start(); err != nil {
		return withHint(fmt.Errorf("edit: starting the editor %q: %w", s.Editor, err), "set VISUAL or EDITOR to your editor")
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			return editorExit(s.Editor, err)
		case sig := <-s.Signals:
			if sig == os.Interrupt {
				continue // the editor's, as with git and crontab -e: Ctrl-C in vi must not lose the edit
			}
			cmd.Process.Signal(sig)
			select {
			case <-done:
			case <-time.After(editorGrace):
				cmd.Process.Kill()
				<-done
			}
			return &signalError{sig: sig}
		}
	}
}

// editorExit turns the editor's exit into an error when it failed.
func editorExit(editor string, err error) error {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		if err != nil {
			return fmt.Errorf("edit: the editor %q: %w", editor, err)
		}
		return nil
	}
	if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
		return fmt.Errorf("edit: the editor %q was killed by %v; nothing written", editor, st.Signal())
	}
	return fmt.Errorf("edit: the editor %q exited with status %d; nothing written", editor, ee.ExitCode())
}

// readEdited reads the file the editor left at path: a regular file of at
// most store.MaxValueLen bytes and a newline.
func readEdited(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("edit: the editor removed the file; nothing written")
	}
	if err != nil {
		return nil, fmt.Errorf("edit: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("edit: the editor left something other than a file; nothing written")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("edit: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, store.MaxValueLen+3))
	if err != nil {
		clear(b)
		return nil, fmt.Errorf("edit: reading the edited file: %w", err)
	}
	return b, nil
}

// dropNewline returns b without one trailing "\n" or "\r\n".
func dropNewline(b []byte) []byte {
	if bytes.HasSuffix(b, []byte("\r\n")) {
		return b[:len(b)-2]
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}
