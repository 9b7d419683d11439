package gitstore

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// FingerprintKeyName is the entry that keys value fingerprints: 32 random
// bytes (hex) kept inside the store itself, under the name
// "fingerprint-key" in the reserved scope "git" (the stored key is
// "__hush_git_fingerprint-key", which existing stores hold), so only the
// store's recipients can compute or check a fingerprint. It is a variable
// only because [scope.Key] builds it; nothing may change it.
//
// A fingerprint is the first 8 bytes of HMAC-SHA256(key, name || 0x00 ||
// value), in hex. It changes when the value changes, so a diff shows the
// change; without the key it says nothing about the value, even a short
// one. The name is mixed in so that two names sharing a value do not
// show it. A former recipient keeps the key from their old copies: after
// removing someone, rotate the key with the secrets (delete this entry
// and run `hush git setup` again).
var FingerprintKeyName = scope.Key("git", "fingerprint-key")

// Fingerprint returns the keyed fingerprint of name's value.
func Fingerprint(key []byte, name string, value []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write(value)
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// keyID names a fingerprint key without revealing it, so a diff shows
// when the key itself changed.
func keyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("hush git fingerprint key id"))
	return hex.EncodeToString(m.Sum(nil)[:4])
}

// EnsureFingerprintKey adds a fresh fingerprint key to p unless it has
// one. It reports whether it added one. Errors are those of the
// provider's Update (a lock timeout, a decrypt error, an I/O error).
func EnsureFingerprintKey(ctx context.Context, p store.Provider) (added bool, err error) {
	err = store.Update(ctx, p, func(tx store.Tx) error {
		if _, err := tx.Lookup(FingerprintKeyName); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		k := make([]byte, 32)
		rand.Read(k)
		v := []byte(hex.EncodeToString(k))
		clear(k)
		if err := tx.Set(FingerprintKeyName, v); err != nil {
			return err
		}
		added = true
		return nil
	})
	if err != nil {
		added = false
	}
	return added, err
}
