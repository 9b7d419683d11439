package agent

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// Unlock makes the identities ids, parsed from data (the content of the
// source name) by store.ParseIdentities, ask for their passphrase now
// rather than on first use, and checks the answer. A passphrase-encrypted
// age identity file is decrypted; a passphrase-protected SSH key unwraps
// a file key wrapped to its own public key. Other identities (plain keys,
// plugins) are left as they are: a plugin runs when the agent unwraps.
//
// It returns the identities' own error (a wrong passphrase, no terminal
// to ask on) when one fails to unlock.
func Unlock(name string, data []byte, ids []age.Identity) error {
	probe, key, err := probeStanzas(name, data)
	if err != nil {
		return err
	}
	if probe == nil {
		return nil
	}
	for _, id := range ids {
		got, err := id.Unwrap(probe)
		switch {
		case err == nil && key != nil && !bytes.Equal(got, key):
			return fmt.Errorf("agent: %s unwrapped a test stanza to the wrong key", name)
		case err == nil, err == age.ErrIncorrectIdentity:
			// Unlocked. The sentinel itself, not an error wrapping it:
			// a wrong passphrase wraps it too (scrypt's answer).
		default:
			return err
		}
	}
	return nil
}

// probeStanzas returns stanzas that make the identities of data unlock:
// none at all for a passphrase-encrypted age file (its identity decrypts
// before it looks at the stanzas), a stanza wrapped to the public key of
// a passphrase-protected SSH key with the file key it hides, and nil for
// anything that needs no unlocking.
func probeStanzas(name string, data []byte) ([]*age.Stanza, []byte, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(data, []byte("age-encryption.org/")), bytes.HasPrefix(trimmed, []byte("-----BEGIN AGE ENCRYPTED FILE-----")):
		return []*age.Stanza{}, nil, nil
	case !bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		return nil, nil, nil
	}
	_, err := agessh.ParseIdentity(trimmed)
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		return nil, nil, nil // an unencrypted (or malformed: already reported) SSH key
	}
	pub := missing.PublicKey
	if pub == nil {
		b, err := os.ReadFile(name + ".pub")
		if err != nil {
			return nil, nil, fmt.Errorf("agent: %s.pub: %w", name, err)
		}
		if pub, _, _, _, err = ssh.ParseAuthorizedKey(b); err != nil {
			return nil, nil, fmt.Errorf("agent: %s.pub: %w", name, err)
		}
	}
	r, err := agessh.ParseRecipient(string(ssh.MarshalAuthorizedKey(pub)))
	if err != nil {
		return nil, nil, fmt.Errorf("agent: %s: %w", name, err)
	}
	key := make([]byte, 16)
	rand.Read(key)
	stanzas, err := r.Wrap(key)
	if err != nil {
		return nil, nil, fmt.Errorf("agent: %s: %w", name, err)
	}
	return stanzas, key, nil
}
