package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// Getenv looks up an environment variable; os.Getenv fits.
type Getenv func(string) string

// DefaultIdentityPath is $XDG_CONFIG_HOME/hush/identity.txt, else
// ~/.config/hush/identity.txt.
func DefaultIdentityPath(getenv Getenv) string {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "hush", "identity.txt")
	}
	return filepath.Join(home(getenv), ".config", "hush", "identity.txt")
}

// DefaultStorePath is HUSH_STORE, else $XDG_DATA_HOME/hush/store.age, else
// ~/.local/share/hush/store.age.
func DefaultStorePath(getenv Getenv) string {
	if p := getenv("HUSH_STORE"); p != "" {
		return p
	}
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "hush", "store.age")
	}
	return filepath.Join(home(getenv), ".local", "share", "hush", "store.age")
}

func home(getenv Getenv) string {
	if h := getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// IdentitySource describes where to look for identities.
type IdentitySource struct {
	Files  []string // --identity flags, all used
	Getenv Getenv   // nil means os.Getenv
	IdentityOptions
	// AllowInsecurePermissions skips the permission check of identity files.
	AllowInsecurePermissions bool
}

// FoundIdentities are the identities discovered and where they came from.
type FoundIdentities struct {
	Identities []age.Identity
	From       string // "--identity", "HUSH_IDENTITY", "HUSH_IDENTITY_FILE" or the default path
	Paths      []string
}

// FindIdentities discovers identities, first found wins: the files named
// by --identity, HUSH_IDENTITY (the key text itself), HUSH_IDENTITY_FILE
// (a path), then the default path. It returns an error wrapping
// ErrNoIdentity when none of these exists, and ErrInsecurePermissions for
// an identity file that group or others can read.
func FindIdentities(src IdentitySource) (*FoundIdentities, error) {
	getenv := src.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if getenv("HUSH_ALLOW_INSECURE_PERMS") == "1" {
		src.AllowInsecurePermissions = true
	}
	if len(src.Files) > 0 {
		var all []age.Identity
		for _, p := range src.Files {
			ids, err := src.readFile(p)
			if err != nil {
				return nil, err
			}
			all = append(all, ids...)
		}
		return &FoundIdentities{Identities: all, From: "--identity", Paths: src.Files}, nil
	}
	if k := getenv("HUSH_IDENTITY"); k != "" {
		ids, err := ParseIdentities("HUSH_IDENTITY", []byte(k), src.IdentityOptions)
		if err != nil {
			return nil, err
		}
		return &FoundIdentities{Identities: ids, From: "HUSH_IDENTITY"}, nil
	}
	if p := getenv("HUSH_IDENTITY_FILE"); p != "" {
		ids, err := src.readFile(p)
		if err != nil {
			return nil, err
		}
		return &FoundIdentities{Identities: ids, From: "HUSH_IDENTITY_FILE", Paths: []string{p}}, nil
	}
	p := DefaultIdentityPath(getenv)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w (looked at --identity, HUSH_IDENTITY, HUSH_IDENTITY_FILE and %s)", ErrNoIdentity, p)
	}
	ids, err := src.readFile(p)
	if err != nil {
		return nil, err
	}
	return &FoundIdentities{Identities: ids, From: p, Paths: []string{p}}, nil
}

func (src IdentitySource) readFile(p string) ([]age.Identity, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	if !src.AllowInsecurePermissions {
		if err := CheckPermissions(p, fi); err != nil {
			return nil, err
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<24))
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", p, err)
	}
	defer clear(data)
	return ParseIdentities(p, data, src.IdentityOptions)
}
