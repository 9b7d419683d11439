package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
	"filippo.io/age/plugin"
	"golang.org/x/crypto/ssh"
)

// PassphraseFunc asks for a passphrase; prompt names what it unlocks. It
// must fail, not block, when no terminal is available.
type PassphraseFunc func(prompt string) ([]byte, error)

// IdentityOptions say how to parse identities.
type IdentityOptions struct {
	// Passphrase unlocks passphrase-encrypted identity files and SSH keys.
	// It is called only when such an identity is actually needed.
	Passphrase PassphraseFunc
	// PluginUI is handed to age plugins.
	PluginUI *plugin.ClientUI
}

// ParseIdentities parses identity material: an age identity file (X25519,
// post-quantum and plugin identities, # comments), an SSH private key
// (passphrase-protected ones unlocked lazily), or a passphrase-encrypted
// age identity file (decrypted lazily). name labels errors and prompts;
// the key material never appears in an error.
func ParseIdentities(name string, data []byte, o IdentityOptions) ([]age.Identity, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(data, []byte("age-encryption.org/")) || bytes.HasPrefix(trimmed, []byte(armor.Header)):
		return []age.Identity{&encryptedIdentity{name: name, data: bytes.Clone(data), o: o}}, nil
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		return parseSSHIdentity(name, trimmed, o)
	}
	var ids []age.Identity
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !utf8.ValidString(line) {
			return nil, fmt.Errorf("%w in %s: line %d is not valid UTF-8", ErrInvalidIdentity, name, n)
		}
		id, err := parseIdentityLine(line, o)
		if err != nil {
			return nil, fmt.Errorf("%w in %s: line %d: %v", ErrInvalidIdentity, name, n, err)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w in %s: %v", ErrInvalidIdentity, name, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w in %s: no identities in it", ErrInvalidIdentity, name)
	}
	return ids, nil
}

func parseIdentityLine(line string, o IdentityOptions) (age.Identity, error) {
	switch {
	case strings.HasPrefix(line, "AGE-PLUGIN-"):
		ui := o.PluginUI
		if ui == nil {
			ui = noninteractiveUI
		}
		return plugin.NewIdentity(line, ui)
	case strings.HasPrefix(line, "AGE-SECRET-KEY-PQ-1"):
		return age.ParseHybridIdentity(line)
	case strings.HasPrefix(line, "AGE-SECRET-KEY-1"):
		return age.ParseX25519Identity(line)
	case strings.HasPrefix(line, "age1"), strings.HasPrefix(line, "ssh-"):
		return nil, errors.New("this is a recipient (public key), not an identity")
	}
	return nil, errors.New("unknown identity type") // never echo the line
}

func parseSSHIdentity(name string, pemBytes []byte, o IdentityOptions) ([]age.Identity, error) {
	id, err := agessh.ParseIdentity(pemBytes)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		pub := missing.PublicKey
		if pub == nil {
			b, rerr := os.ReadFile(name + ".pub")
			if rerr != nil {
				return nil, fmt.Errorf("%w in %s: encrypted SSH key needs its public key in %s.pub: %v", ErrInvalidIdentity, name, name, rerr)
			}
			pub, _, _, _, rerr = ssh.ParseAuthorizedKey(b)
			if rerr != nil {
				return nil, fmt.Errorf("%w in %s.pub: %v", ErrInvalidIdentity, name, rerr)
			}
		}
		prompt := func() ([]byte, error) {
			if o.Passphrase == nil {
				return nil, fmt.Errorf("SSH key %s is passphrase-protected and no passphrase source is available", name)
			}
			return o.Passphrase(fmt.Sprintf("passphrase for SSH key %s", name))
		}
		eid, err := agessh.NewEncryptedSSHIdentity(pub, bytes.Clone(pemBytes), prompt) // the caller clears its buffer
		if err != nil {
			return nil, fmt.Errorf("%w in %s: %v", ErrInvalidIdentity, name, err)
		}
		return []age.Identity{&serialIdentity{id: eid}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w in %s: malformed SSH key: %v", ErrInvalidIdentity, name, sanitize(err))
	}
	return []age.Identity{id}, nil
}

// serialIdentity makes an identity that caches state on first use safe
// for concurrent use: agessh's encrypted identity stores the decrypted key
// without a lock, so two first reads at once would race and ask for the
// passphrase twice.
type serialIdentity struct {
	mu sync.Mutex
	id age.Identity
}

func (s *serialIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id.Unwrap(stanzas)
}

func sanitize(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// encryptedIdentity is a passphrase-encrypted age identity file. It asks
// for the passphrase only when a stanza needs unwrapping, and only once.
type encryptedIdentity struct {
	name string
	data []byte
	o    IdentityOptions

	once sync.Once
	ids  []age.Identity
	err  error
}

func (e *encryptedIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	e.once.Do(e.decrypt)
	if e.err != nil {
		return nil, e.err
	}
	for _, id := range e.ids {
		k, err := id.Unwrap(stanzas)
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		return k, err
	}
	return nil, age.ErrIncorrectIdentity
}

func (e *encryptedIdentity) decrypt() {
	if e.o.Passphrase == nil {
		e.err = fmt.Errorf("identity file %s is passphrase-encrypted and no passphrase source is available", e.name)
		return
	}
	pass, err := e.o.Passphrase(fmt.Sprintf("passphrase for identity file %s", e.name))
	if err != nil {
		e.err = err
		return
	}
	sid, err := age.NewScryptIdentity(string(pass))
	clear(pass)
	if err != nil {
		e.err = err
		return
	}
	var r io.Reader = bytes.NewReader(e.data)
	if bytes.HasPrefix(bytes.TrimSpace(e.data), []byte(armor.Header)) {
		r = armor.NewReader(r)
	}
	pr, err := age.Decrypt(r, sid)
	if err != nil {
		e.err = fmt.Errorf("identity file %s: wrong passphrase or corrupt file: %w", e.name, err)
		return
	}
	plain, err := io.ReadAll(io.LimitReader(pr, 1<<24))
	if err != nil {
		e.err = fmt.Errorf("identity file %s: %w", e.name, err)
		return
	}
	defer clear(plain)
	e.ids, e.err = ParseIdentities(e.name, plain, e.o)
}

// RecipientOf returns the recipient string of an identity whose public key
// can be derived from it (X25519 and post-quantum identities).
func RecipientOf(id age.Identity) (string, bool) {
	switch id := id.(type) {
	case *age.X25519Identity:
		return id.Recipient().String(), true
	case *age.HybridIdentity:
		return id.Recipient().String(), true
	}
	return "", false
}
