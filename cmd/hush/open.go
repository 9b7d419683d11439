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

// findIdentities runs the identity search of identitySource. With
// HUSH_ALLOW_INSECURE_PERMS=1 it warns about an identity file it would
// otherwise refuse.
func (a *app) findIdentities() (*locate.Found, error) {
	src := a.identitySource()
	src.AllowInsecurePermissions = false
	found, err := locate.Identities(src)
	if err != nil && a.acceptInsecure(err) {
		found, err = locate.Identities(a.identitySource())
	}
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
	opts := store.Options{LockTimeout: wait}
	_, err = store.Open(p, opts)
	if err != nil && a.acceptInsecure(err) {
		opts.AllowInsecurePermissions = true
		_, err = store.Open(p, opts)
	}
	if err != nil {
		return nil, err
	}
	found, err := a.findIdentities()
	if err != nil {
		return nil, err
	}
	opts.Identities = found.Identities
	opts.StateDir = a.stateDir()
	opts.Warn = func(msg string) { a.warnf("%s", msg) }
	a.infof("store %s", p)
	f, err := store.Open(p, opts)
	if err == nil {
		a.opened = append(a.opened, f)
	}
	return f, err
}

// stateDir is where hush records what it accepted of each store (see
// locate.StateDir); "" (no integrity check) when nothing names a home.
func (a *app) stateDir() string {
	d, err := locate.StateDir(a.getenv)
	if err != nil {
		a.infof("no integrity check: %v", err)
		return ""
	}
	return d
}

// acceptInsecure reports whether err is a permission refusal that
// HUSH_ALLOW_INSECURE_PERMS=1 overrides, and if so warns about it.
func (a *app) acceptInsecure(err error) bool {
	var pe *store.PermissionError
	if !a.allowInsecure() || !errors.As(err, &pe) || pe.Reason == store.ReasonNotRegular {
		return false
	}
	a.warnf("warning: %v (accepted: HUSH_ALLOW_INSECURE_PERMS=1)", pe)
	return true
}

// openView opens the store and returns the view the command addresses:
// the user view (reserved names refused and hidden), or with --scope S,
// scope S. The raw file is returned too, for recipient changes.
func (a *app) openView() (store.Provider, *store.File, error) {
	if a.scopeFlag != "" {
		if err := scope.ValidateScope(a.scopeFlag); err != nil {
			return nil, nil, scopeFlagErr("--scope", a.scopeFlag, err)
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
