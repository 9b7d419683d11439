package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/hush-secrets/hush/internal/atomicfile"
)

// scryptWorkFactor, when non-zero, overrides age's scrypt work factor for
// passphrase-encrypted identities. Only tests set it, to stay fast.
var scryptWorkFactor int

// existsErr refuses to write an identity over path, with a hint.
func existsErr(path string) error {
	return withHint(fmt.Errorf("%w: %s exists; hush never overwrites an identity", errRefused, path),
		"choose another file with -o, or move the old one away if you are sure it is not needed")
}

// writeNewIdentity creates path (O_EXCL, 0600, parent 0700, fsynced with
// its directory) holding a new identity, encrypted with pass if it is not
// nil, and returns its recipient. It never replaces a file. On error
// nothing is left behind.
func writeNewIdentity(path string, pq bool, pass []byte) (recipient string, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	buf.Grow(4 << 10) // room for any identity: no copy of the key is left behind by a regrowth
	defer func() { clear(buf.Bytes()) }()
	r, err := writeIdentity(&buf, pq, pass)
	if err != nil {
		return "", err
	}
	err = atomicfile.WriteNewFile(path, buf.Bytes(), 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", existsErr(path)
	}
	if err != nil {
		return "", err
	}
	return r, nil
}

// writeIdentity generates an identity and writes it to w in age's identity
// file format, or passphrase-encrypted and armored when pass is not nil.
func writeIdentity(w io.Writer, pq bool, pass []byte) (string, error) {
	var key, recipient string
	if pq {
		id, err := age.GenerateHybridIdentity()
		if err != nil {
			return "", err
		}
		key, recipient = id.String(), id.Recipient().String()
	} else {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return "", err
		}
		key, recipient = id.String(), id.Recipient().String()
	}
	var text bytes.Buffer
	fmt.Fprintf(&text, "# created: %s\n# public key: %s\n%s\n", time.Now().Format(time.RFC3339), recipient, key)
	defer clear(text.Bytes())
	if pass == nil {
		_, err := w.Write(text.Bytes())
		return recipient, err
	}
	sr, err := age.NewScryptRecipient(string(pass))
	if err != nil {
		return "", err
	}
	if scryptWorkFactor != 0 {
		sr.SetWorkFactor(scryptWorkFactor)
	}
	aw := armor.NewWriter(w)
	ew, err := age.Encrypt(aw, sr)
	if err != nil {
		return "", err
	}
	if _, err := ew.Write(text.Bytes()); err != nil {
		return "", err
	}
	if err := ew.Close(); err != nil {
		return "", err
	}
	return recipient, aw.Close()
}
