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
	// ErrInsecurePermissions means a file was refused because someone else
	// could read a key or replace a store: an identity file that group or
	// others can access; a store, or its directory, that they can write; a
	// store, lock or identity file owned by another user (root aside); a
	// hard-linked store; something other than a regular file at the lock
	// path. The error is a *PermissionError saying which.
	ErrInsecurePermissions = errors.New("insecure file permissions")
	// ErrLimit means a name, value or the whole store is over its limit.
	ErrLimit = errors.New("limit exceeded")
	// ErrInvalidName means a name is empty, too long, or contains control
	// characters, whitespace or (for a new name) Unicode format characters.
	// Every operation returns it for an invalid name, Get and Delete
	// included, never ErrNotFound.
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
	// ErrNoIdentity means no identity was found in any of the places searched.
	ErrNoIdentity = errors.New("no identity found")
	// ErrInvalidIdentity means an identity file could not be parsed.
	ErrInvalidIdentity = errors.New("invalid identity")
	// ErrInvalidRecipient means a recipient string is not one age understands.
	ErrInvalidRecipient = errors.New("invalid recipient")
	// ErrNoBatch is returned by [Update] for a Provider that is not an
	// [Updater] when fn needs a method that cannot be emulated.
	ErrNoBatch = errors.New("store: provider has no atomic batches")
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

// StoreError reports a failure of the store as a whole, with its path.
type StoreError struct {
	Path string
	Err  error
}

func (e *StoreError) Error() string { return "store " + e.Path + ": " + e.Err.Error() }
func (e *StoreError) Unwrap() error { return e.Err }

// DecryptError reports a store that could not be decrypted. It unwraps to
// both ErrDecrypt and Reason, age's own error (such as an
// *age.NoIdentityMatchError), so either can be tested with errors.Is and
// errors.As. It never holds plaintext.
type DecryptError struct {
	Reason error

	inPayload bool // the header was good; the payload failed (tests check the stage)
}

func (e *DecryptError) Error() string {
	if e.Reason == nil {
		return ErrDecrypt.Error()
	}
	return ErrDecrypt.Error() + ": " + e.Reason.Error()
}
func (e *DecryptError) Unwrap() []error {
	if e.Reason == nil {
		return []error{ErrDecrypt}
	}
	return []error{ErrDecrypt, e.Reason}
}

// DocumentError reports a plaintext that decrypted but is not a valid store
// document. It never quotes the plaintext.
type DocumentError struct{ Reason string }

func (e *DocumentError) Error() string { return "store: malformed document: " + e.Reason }
