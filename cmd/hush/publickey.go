package main

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"filippo.io/age/armor"
	"filippo.io/age/plugin"
	"golang.org/x/crypto/ssh"

	"github.com/hush-secrets/hush/store"
)

// maxIdentitySize is the largest identity file keygen -y reads, as
// locate and age do.
const maxIdentitySize = 1 << 24

// runKeygenConvert prints the recipient of every identity in o.Input ("-"
// for stdin, "" for the default identity file) on w, one a line, as
// age-keygen -y does. Nothing is printed unless every identity has one.
//
// A missing file is an error wrapping fs.ErrNotExist (exit 1); a file that
// is not an identity wraps store.ErrInvalidIdentity (exit 5); a passphrase
// that is not typed right, or no terminal to ask on, is a
// *passphraseError (exit 5); a plugin identity, whose recipient only its
// plugin knows, is an other error (exit 1).
func (a *app) runKeygenConvert(o keygenOptions, w io.Writer) error {
	name, data, err := a.readIdentityInput(o.Input)
	if err != nil {
		return err
	}
	defer clear(data)
	rs, err := a.identityRecipients(name, data, true)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, strings.Join(rs, "\n")+"\n")
	return err
}

// readIdentityInput reads the identity file path ("-" for stdin, "" for
// the default identity file) and returns the name that labels it in
// prompts and errors. The caller clears the data.
func (a *app) readIdentityInput(path string) (name string, data []byte, err error) {
	var r io.Reader
	switch path {
	case "-":
		name, r = "standard input", a.stdin
	case "":
		p, err := a.identityPath()
		if err != nil {
			return "", nil, err
		}
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil, withHint(fmt.Errorf("no identity file at %s: %w", p, fs.ErrNotExist),
				"run 'hush keygen' to create one, or name one: hush keygen -y FILE")
		}
		if err != nil {
			return "", nil, fmt.Errorf("identity file: %w", err)
		}
		defer f.Close()
		name, r = p, f
	default:
		f, err := os.Open(path)
		if err != nil {
			return "", nil, fmt.Errorf("identity file: %w", err)
		}
		defer f.Close()
		name, r = path, f
	}
	data, err = io.ReadAll(io.LimitReader(r, maxIdentitySize+1))
	if err != nil {
		clear(data)
		return "", nil, fmt.Errorf("identity file %s: %w", name, err)
	}
	if len(data) > maxIdentitySize {
		clear(data)
		return "", nil, fmt.Errorf("%w in %s: over %d bytes", store.ErrInvalidIdentity, name, maxIdentitySize)
	}
	return name, data, nil
}

// identityRecipients returns the recipient of each identity in data, in
// order: age1... for X25519 and post-quantum identities, the public key
// line for an SSH private key. A passphrase-encrypted identity file (only
// when outer: never one inside another) is decrypted with a passphrase
// asked on the terminal. Errors name the file, never key material.
func (a *app) identityRecipients(name string, data []byte, outer bool) ([]string, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(data, []byte("age-encryption.org/")) || bytes.HasPrefix(trimmed, []byte(armor.Header)):
		if !outer {
			return nil, fmt.Errorf("%w in %s: an encrypted file inside the encrypted identity file", store.ErrInvalidIdentity, name)
		}
		plain, err := a.openIdentityFile(name, data)
		if err != nil {
			return nil, err
		}
		defer clear(plain)
		return a.identityRecipients(name, plain, false)
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		r, err := a.sshRecipient(name, trimmed)
		if err != nil {
			return nil, err
		}
		return []string{r}, nil
	}
	ids, err := store.ParseIdentities(name, data, store.IdentityOptions{})
	if err != nil {
		return nil, err
	}
	rs := make([]string, 0, len(ids))
	for _, id := range ids {
		r, ok := store.RecipientOf(id)
		if !ok {
			if p, ok := id.(*plugin.Identity); ok {
				return nil, withHint(fmt.Errorf("%s holds a plugin identity (age-plugin-%s), whose recipient only the plugin knows", name, p.Name()),
					"ask the plugin for it (for example age-plugin-%s --help shows how to list its recipients)", p.Name())
			}
			return nil, fmt.Errorf("%s holds an identity whose recipient cannot be derived", name)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// openIdentityFile decrypts a passphrase-encrypted identity file, asking
// for the passphrase on the terminal (three tries). The caller clears the
// plaintext.
func (a *app) openIdentityFile(name string, data []byte) ([]byte, error) {
	var plain []byte
	err := a.askVerified("identity file "+name, func(pass []byte) (bool, error) {
		p, err := openScrypt(data, pass)
		switch {
		case errors.Is(err, errWrongPassphrase):
			return true, nil
		case err != nil:
			return false, fmt.Errorf("%w in %s: %v", store.ErrInvalidIdentity, name, err)
		}
		plain = p
		return false, nil
	})
	return plain, err
}

// sshRecipient returns the public key line ("ssh-ed25519 AAAA...", no
// comment) of the SSH private key pemBytes. The OpenSSH format keeps the
// public key in clear, so an encrypted key needs no passphrase; the old
// PEM format does not, and its passphrase is asked on the terminal.
// Only the key types age accepts (ed25519, RSA) are identities.
func (a *app) sshRecipient(name string, pemBytes []byte) (string, error) {
	malformed := fmt.Errorf("%w in %s: malformed SSH private key", store.ErrInvalidIdentity, name)
	var pub ssh.PublicKey
	signer, err := ssh.ParsePrivateKey(pemBytes)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		pub = signer.PublicKey()
	case errors.As(err, &missing) && missing.PublicKey != nil:
		pub = missing.PublicKey
	case errors.As(err, &missing):
		err := a.askVerified("SSH key "+name, func(pass []byte) (bool, error) {
			s, err := ssh.ParsePrivateKeyWithPassphrase(pemBytes, pass)
			switch {
			case errors.Is(err, x509.IncorrectPasswordError):
				return true, nil
			case err != nil:
				return false, malformed
			}
			pub = s.PublicKey()
			return false, nil
		})
		if err != nil {
			return "", err
		}
	default:
		return "", malformed
	}
	if t := pub.Type(); t != ssh.KeyAlgoED25519 && t != ssh.KeyAlgoRSA {
		return "", fmt.Errorf("%w in %s: %s keys are not age identities (age accepts ssh-ed25519 and ssh-rsa)", store.ErrInvalidIdentity, name, t)
	}
	return strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(pub)), "\n"), nil
}
