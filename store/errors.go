package store

import (
	"errors"
	"strconv"
)

// Sentinel errors. Test for them with errors.Is; the messages are for
// people and may change.
var (
	// ErrNotFound means the named secret does not exist.
	ErrNotFound = errors.New("secret not found")
	// ErrLockTimeout means the store's lock was not acquired before the
	// deadline (context or lock timeout). Nothing was written.
	ErrLockTimeout = errors.New("timed out waiting for the store lock")
	// ErrDecrypt means the store could not be decrypted: no identity
	// matched, a passphrase was wrong, or the file is corrupt or tampered.
	ErrDecrypt = errors.New("cannot decrypt the store")
	// ErrInsecurePermissions means a store or identity file is readable by
	// group or others.
	ErrInsecurePermissions = errors.New("insecure file permissions")
	// ErrLimit means a name, value or the whole store is over its limit.
	ErrLimit = errors.New("limit exceeded")
	// ErrInvalidName means a name is empty, too long, or contains control
	// characters or whitespace.
	ErrInvalidName = errors.New("invalid secret name")
	// ErrNoStore means there is no store at the path (or the file is empty).
	ErrNoStore = errors.New("no store at this path")
	// ErrExists means a store already exists where one was to be created.
	ErrExists = errors.New("store already exists")
	// ErrLastRecipient means a recipient change would leave the caller
	// unable to decrypt the store.
	ErrLastRecipient = errors.New("change would leave no recipient this identity can decrypt")
	// ErrReadOnly means a write was attempted through a read-only view.
	ErrReadOnly = errors.New("read-only view")
)

// KeyError records an error and the operation and key that caused it, as
// fs.PathError does for paths. Name is the name the caller used.
type KeyError struct {
	Op   string
	Name string
	Err  error
}

func (e *KeyError) Error() string {
	return e.Op + " " + quoteName(e.Name) + ": " + e.Err.Error()
}

func (e *KeyError) Unwrap() error { return e.Err }

// quoteName renders a name for an error message. Names are not secret, but
// they may hold bytes that would garble a terminal, so those are escaped.
func quoteName(name string) string {
	if name == "" {
		return `""` // an empty name would vanish from the message
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x21 || c == 0x7f || c == '"' || c == '\\' || c >= 0x80 {
			return strconv.Quote(name)
		}
	}
	return name
}
