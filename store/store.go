// Package store defines the Provider contract that every hush layer speaks,
// its sentinel errors, and the age-encrypted, flock-guarded file provider.
//
// A [Provider] is a key/value store of secrets: names are short strings,
// values are arbitrary byte strings. The file provider ([Open], [Create])
// keeps every secret in one age-encrypted file whose plaintext is a small
// versioned JSON document. Writers serialise on an advisory lock held on a
// stable side file and replace the store atomically; readers take no lock.
//
// Decorators that add namespaces (package scope) and the migrator (package
// migrate) depend only on the contract defined here. The package storetest
// holds a conformance suite that any Provider can be run through.
package store

import (
	"context"
	"time"
)

// Entry is a secret's name and metadata. It never carries the value.
type Entry struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

// Provider is a store of secrets.
//
// Every error a Provider returns for a single key is a *KeyError, at the
// top of the chain, naming the operation and the key the caller used; the
// other errors in the chain, and the errors of calls without a key (List),
// name no key. So a decorator that maps names to keys (package scope) can
// rebuild a *KeyError with its own caller's name and leave everything else
// as it is, as fs.Sub does with an *fs.PathError. Errors never contain a
// secret value. Not-found is detected with errors.Is(err, ErrNotFound) and
// nothing else.
//
// Providers may offer atomic batches ([Updater]), reads of many names
// from one version of the store ([GetManyProvider]) and faster or atomic
// bulk deletes ([DeleteManyProvider], [CleanupProvider]); [Update],
// [GetMany], [DeleteMany] and [Cleanup] use them when present and fall
// back to the four methods here otherwise.
type Provider interface {
	// Get returns the value of name. It returns an error wrapping
	// ErrNotFound if name is absent; any other error (ErrDecrypt,
	// ErrInsecurePermissions, an I/O error) means the store could not be
	// read and must not be taken as absence.
	Get(ctx context.Context, name string) ([]byte, error)

	// Set creates or replaces name with value. The value is stored byte for
	// byte. It returns an error wrapping ErrInvalidName or ErrLimit for
	// names or values outside the limits, and ErrLockTimeout if the store
	// could not be locked in time; on any error nothing is written.
	Set(ctx context.Context, name string, value []byte) error

	// Delete removes name. It returns an error wrapping ErrNotFound if name
	// is absent, in which case nothing is written.
	Delete(ctx context.Context, name string) error

	// List returns the metadata of every entry visible to this view, sorted
	// by name, in a slice that is the caller's to keep and to modify. An
	// empty store gives an empty slice and no error.
	List(ctx context.Context) ([]Entry, error)
}

// Tx is the view of a store inside an atomic batch (see [Updater]). Its
// methods follow the error contracts of the matching Provider methods (a
// failure for a key is a *KeyError at the top of the chain); an error
// returned from the batch function discards every change made through the
// Tx.
type Tx interface {
	Get(name string) ([]byte, error)
	// Lookup returns the entry's metadata, or an error wrapping ErrNotFound.
	Lookup(name string) (Entry, error)
	Set(name string, value []byte) error
	// SetDescription changes the description of an existing entry.
	SetDescription(name, description string) error
	Delete(name string) error
	// List returns the metadata of every entry visible in the Tx, sorted.
	List() ([]Entry, error)
}

// Updater is implemented by a Provider that can apply several changes
// atomically. Update runs fn with exclusive access to the store; if fn
// returns nil, all its changes are written as one replacement of the
// store, otherwise none is. If fn changes nothing, nothing is written.
// fn may be called only once; it must not retain the Tx.
type Updater interface {
	Update(ctx context.Context, fn func(Tx) error) error
}

// Update runs fn atomically when p implements [Updater]. Otherwise it runs
// fn against a Tx that forwards each call to p directly: the changes are
// then applied one by one and are not atomic.
func Update(ctx context.Context, p Provider, fn func(Tx) error) error {
	if u, ok := p.(Updater); ok {
		return u.Update(ctx, fn)
	}
	return fn(&directTx{ctx: ctx, p: p})
}

// directTx adapts a plain Provider to Tx, without atomicity.
type directTx struct {
	ctx context.Context
	p   Provider
}

func (t *directTx) Get(name string) ([]byte, error)  { return t.p.Get(t.ctx, name) }
func (t *directTx) Set(name string, v []byte) error  { return t.p.Set(t.ctx, name, v) }
func (t *directTx) Delete(name string) error         { return t.p.Delete(t.ctx, name) }
func (t *directTx) List() ([]Entry, error)           { return t.p.List(t.ctx) }
func (t *directTx) SetDescription(n, d string) error { return ErrNoBatch }
func (t *directTx) Lookup(name string) (Entry, error) {
	es, err := t.p.List(t.ctx)
	if err != nil {
		return Entry{}, err
	}
	for _, e := range es {
		if e.Name == name {
			return e, nil
		}
	}
	return Entry{}, &KeyError{Op: "lookup", Name: name, Err: ErrNotFound}
}
