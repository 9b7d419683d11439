package main

import (
	"errors"
	"fmt"

	"filippo.io/age"

	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// identitySource says where hush looks for identities: -i, HUSH_IDENTITY,
// HUSH_IDENTITY_FILE, then the default file (see package locate), and
// whether HUSH_ALLOW_INSECURE_PERMS=1 accepts loose identity files.
// Passphrase-encrypted identities ask on the terminal, only when needed,
// once per process.
func (a *app) identitySource() locate.Options {
	return locate.Options{
		Files:                    a.identities,
		Getenv:                   a.getenv,
		IdentityOptions:          store.IdentityOptions{Passphrase: a.askPassphrase},
		AllowInsecurePermissions: a.allowInsecure(),
	}
}

// findIdentities runs the identity search of identitySource.
func (a *app) findIdentities() (*locate.Found, error) {
	found, err := locate.Identities(a.identitySource())
	if err != nil {
		return nil, err
	}
	found = a.withAgent(found)
	a.infof("identities from %s", found.From)
	return found, nil
}

// openFile opens the store with the caller's identities. The store is
// checked first, so a missing store is reported as such even when no
// identity exists yet.
func (a *app) openFile() (*store.File, error) {
	p, err := a.storePath()
	if err != nil {
		return nil, err
	}
	wait, err := a.lockWait()
	if err != nil {
		return nil, err
	}
	opts := store.Options{LockTimeout: wait, AllowInsecurePermissions: a.allowInsecure()}
	if _, err := store.Open(p, opts); err != nil {
		return nil, err
	}
	found, err := a.findIdentities()
	if err != nil {
		return nil, err
	}
	opts.Identities = found.Identities
	a.infof("store %s", p)
	return store.Open(p, opts)
}

// openView opens the store and returns the view the command addresses:
// the user view (reserved names refused and hidden), or with --scope S,
// scope S. The raw file is returned too, for recipient changes.
func (a *app) openView() (store.Provider, *store.File, error) {
	if a.scopeFlag != "" {
		if err := scope.ValidateScope(a.scopeFlag); err != nil {
			return nil, nil, err
		}
	}
	f, err := a.openFile()
	if err != nil {
		return nil, nil, err
	}
	v, err := a.view(f)
	return v, f, err
}

// view decorates p as the global flags ask.
func (a *app) view(p store.Provider) (store.Provider, error) {
	if a.scopeFlag == "" {
		return scope.User(p), nil
	}
	return scope.Scoped(p, a.scopeFlag)
}

// noScope refuses --scope for commands that act on the whole store.
func (a *app) noScope(cmd string) error {
	if a.scopeFlag != "" {
		return usageErrorf("%s acts on the whole store; --scope does not apply", cmd)
	}
	return nil
}

// recipientsOf returns the recipient strings of identities whose public
// key can be derived (X25519 and post-quantum).
func recipientsOf(ids []age.Identity) ([]string, error) {
	var rs []string
	for _, id := range ids {
		if r, ok := store.RecipientOf(id); ok {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return nil, withHint(errors.New("cannot derive a recipient from your identities (SSH keys and passphrase-encrypted or plugin identities do not reveal one)"),
			"pass the public key with -r RECIPIENT or -R FILE")
	}
	return rs, nil
}

// secretValueError says that a value was refused without showing it.
func secretValueError(name, why string) error {
	return fmt.Errorf("secret %s: %s", name, why)
}
