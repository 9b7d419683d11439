package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	"golang.org/x/crypto/ssh"

	"github.com/hush-secrets/hush/store"
)

// maxPassphraseTries is how many times a passphrase is asked on the
// terminal, in one command, before hush gives up.
const maxPassphraseTries = 3

// passphraseError is a passphrase that could not be had: typed wrong at
// every try, or asked for with no terminal to ask on. It wraps
// store.ErrDecrypt (exit 5); its hint names the passphrase, never the
// recipients.
type passphraseError struct {
	what       string // "identity file PATH" or "SSH key PATH"
	tries      int
	noTerminal bool
}

func (e *passphraseError) Error() string {
	if e.noTerminal {
		return fmt.Sprintf("passphrase for %s: no terminal to ask on", e.what)
	}
	return fmt.Sprintf("wrong passphrase for %s (%d tries)", e.what, e.tries)
}

func (e *passphraseError) Unwrap() error { return store.ErrDecrypt }

// openUnlocked is openView followed by one read of the store outside its
// lock, so that every passphrase the identities need is asked for before a
// write takes the lock: a person idle at a prompt never blocks another
// writer. The store's later read under the lock reuses what was unlocked
// and asks nothing. A passphrase typed wrong on the terminal is asked
// again, up to maxPassphraseTries times in all; after that the error is a
// *passphraseError. Any other failure is returned as openView or the read
// reports it.
func (a *app) openUnlocked(ctx context.Context) (store.Provider, *store.File, error) {
	for try := 1; ; try++ {
		p, f, err := a.openView()
		if err == nil {
			_, err = f.Recipients(ctx) // a read that builds nothing, unlike List
		}
		if err == nil {
			return p, f, nil
		}
		wrong := a.mistyped()
		if wrong == "" {
			return nil, nil, err
		}
		if try == maxPassphraseTries {
			return nil, nil, &passphraseError{what: wrong, tries: try}
		}
		a.sayOnTerminal("wrong passphrase for %s; try again", wrong)
	}
}

// wrongPassphrase returns what a passphrase typed wrong was for ("identity
// file PATH"), if err is a decryption failure that a wrong passphrase
// explains, else "". See mistyped for the cost.
func (a *app) wrongPassphrase(err error) string {
	var pe *passphraseError
	if errors.As(err, &pe) {
		if pe.noTerminal {
			return ""
		}
		return pe.what
	}
	if !errors.Is(err, store.ErrDecrypt) {
		return ""
	}
	return a.mistyped()
}

// mistyped checks every passphrase typed on the terminal in this process
// and returns what the first wrong one was for ("identity file PATH"), or
// "" when none is known to be wrong. Wrong ones are forgotten, so the next
// use asks again. It costs one key derivation per passphrase checked, and
// runs only after a failure.
func (a *app) mistyped() string {
	var wrong []string
	for prompt, pass := range a.passphrases {
		if a.passphraseWrong(prompt, pass) {
			wrong = append(wrong, prompt)
		}
	}
	if len(wrong) == 0 {
		return ""
	}
	slices.Sort(wrong)
	for _, prompt := range wrong {
		clear(a.passphrases[prompt])
		delete(a.passphrases, prompt)
	}
	return strings.TrimPrefix(wrong[0], "passphrase for ")
}

// passphraseWrong reports whether pass is known not to unlock what prompt
// (store's "passphrase for identity file NAME" or "passphrase for SSH key
// NAME") names. NAME is a path, or HUSH_IDENTITY for the key text in that
// variable. It answers false whenever it cannot tell.
func (a *app) passphraseWrong(prompt string, pass []byte) bool {
	what := strings.TrimPrefix(prompt, "passphrase for ")
	kind, name := "", ""
	for _, k := range []string{"identity file ", "SSH key "} {
		if n, ok := strings.CutPrefix(what, k); ok {
			kind, name = k, n
		}
	}
	if kind == "" {
		return false
	}
	var data []byte
	if name == "HUSH_IDENTITY" {
		data = []byte(a.getenv("HUSH_IDENTITY"))
	} else {
		// Only a regular file: a FIFO would block, and was read already.
		if fi, err := os.Stat(name); err != nil || !fi.Mode().IsRegular() || fi.Size() > maxIdentitySize {
			return false
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return false
		}
		data = b
	}
	defer clear(data)
	if kind == "SSH key " {
		_, err := ssh.ParseRawPrivateKeyWithPassphrase(bytes.TrimSpace(data), pass)
		return errors.Is(err, x509.IncorrectPasswordError)
	}
	plain, err := openScrypt(data, pass)
	clear(plain)
	return errors.Is(err, errWrongPassphrase)
}

// errWrongPassphrase is openScrypt's answer to a passphrase that does not
// open a passphrase-encrypted file.
var errWrongPassphrase = errors.New("wrong passphrase")

// openScrypt decrypts the passphrase-encrypted age file data (armored or
// not) with pass. A wrong passphrase gives errWrongPassphrase; a file that
// is not passphrase-encrypted, or is corrupt, another error. The plaintext
// is at most 16 MiB; the caller clears it.
func openScrypt(data, pass []byte) ([]byte, error) {
	id, err := age.NewScryptIdentity(string(pass))
	if err != nil {
		return nil, err
	}
	var r io.Reader = bytes.NewReader(data)
	if trimmed := bytes.TrimSpace(data); bytes.HasPrefix(trimmed, []byte(armor.Header)) {
		r = armor.NewReader(bytes.NewReader(trimmed))
	}
	pr, err := age.Decrypt(r, id)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		if slices.Contains(noMatch.StanzaTypes, "scrypt") {
			return nil, errWrongPassphrase
		}
		return nil, errors.New("not passphrase-encrypted")
	}
	if err != nil {
		return nil, err
	}
	plain, err := io.ReadAll(io.LimitReader(pr, maxIdentitySize))
	if err != nil {
		clear(plain)
		return nil, err
	}
	return plain, nil
}

// askVerified asks for the passphrase of what ("identity file PATH") on
// the terminal and hands it to try, which reports whether it was wrong.
// A wrong one is asked again, up to maxPassphraseTries times in all; then,
// or without a terminal, the error is a *passphraseError. Errors of the
// prompt (an interrupt) and of try are returned as they are. The
// passphrase is cleared after try.
func (a *app) askVerified(what string, try func(pass []byte) (wrong bool, err error)) error {
	prompt := "passphrase for " + what
	for n := 1; ; n++ {
		pass, err := a.askPassphrase(prompt)
		switch {
		case err != nil && a.promptFailed:
			return &passphraseError{what: what, noTerminal: true}
		case err != nil:
			return err
		}
		wrong, err := try(pass)
		clear(pass)
		if err != nil || !wrong {
			return err
		}
		if p, ok := a.passphrases[prompt]; ok {
			clear(p)
			delete(a.passphrases, prompt)
		}
		if n == maxPassphraseTries {
			return &passphraseError{what: what, tries: n}
		}
		a.sayOnTerminal("wrong passphrase for %s; try again", what)
	}
}

// sayOnTerminal writes one line, prefixed "hush: ", to the controlling
// terminal, where the prompts are; without one, to stderr.
func (a *app) sayOnTerminal(format string, args ...any) {
	var w io.Writer = a.stderr
	if t, err := a.tty(); err == nil {
		defer t.Close()
		w = t
	}
	fmt.Fprintf(w, "hush: "+format+"\n", args...)
}

// openFileUnlocked is openUnlocked for the commands that act on the whole
// store (the caller refuses --scope first): identities are unlocked, and a
// mistyped passphrase asked again, before any lock is taken.
func (a *app) openFileUnlocked(ctx context.Context) (*store.File, error) {
	_, f, err := a.openUnlocked(ctx)
	return f, err
}
