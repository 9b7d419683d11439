// Package locate finds a hush store and its identities the way the hush
// command does: flags first, then the HUSH_* variables, then the XDG
// defaults.
//
// The library packages, [store] and those built on it, read no environment
// variables and assume no default paths: a Go program hands them a path
// and a list of identities. Package locate is for programs that
// want to find those the way the hush command finds them, so that a user's
// HUSH_STORE or HUSH_IDENTITY_FILE means the same thing to both.
//
// Every function takes a [Getenv]. A nil Getenv means [os.Getenv]; a
// program that keeps its configuration elsewhere passes a function over a
// map. Nothing else is consulted: not the process environment behind a
// non-nil Getenv's back, and not the operating system's idea of the home
// directory.
//
// The store is [StorePath]: the --store flag, else HUSH_STORE, else
// $XDG_DATA_HOME/hush/store.age, else $HOME/.local/share/hush/store.age.
// With none of them set, locate refuses to guess ([ErrNoHome]).
//
// The identities are [Identities], and the first source found wins: every
// file named by the --identity flags, else HUSH_IDENTITY (the key text
// itself), else HUSH_IDENTITY_FILE (a path), else the file at
// [IdentityPath]: $XDG_CONFIG_HOME/hush/identity.txt, else
// $HOME/.config/hush/identity.txt. What is found is parsed by
// [store.ParseIdentities], so every identity kind hush accepts is accepted
// here, and passphrase-protected ones ask only when first used.
//
// An identity file that group or others can read or write, or that another
// user than the caller or root owns, is refused with an error wrapping
// [store.ErrInsecurePermissions] ([store.CheckPermissions]), unless the caller sets
// [Options].AllowInsecurePermissions. Package locate never reads
// HUSH_ALLOW_INSECURE_PERMS: accepting loose files is the caller's choice,
// and the hush command makes it from that variable. Whatever the options,
// an identity "file" that is not a regular file (a named pipe, a device)
// is refused at once, unread, and one over [MaxIdentityFileSize] is
// refused with an error wrapping [store.ErrLimit].
package locate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/inputfile"
	"github.com/hush-secrets/hush/store"
)

// Getenv looks up an environment variable, returning "" when it is unset.
// os.Getenv fits; nil means os.Getenv.
type Getenv func(string) string

func (g Getenv) get(key string) string {
	if g == nil {
		return os.Getenv(key)
	}
	return g(key)
}

// ErrNoHome means a default path was needed but nothing names one:
// neither the flag or variable that names the file, nor the XDG variable,
// nor HOME is set. Package locate never guesses a path relative to the
// working directory.
var ErrNoHome = errors.New("HOME is not set to an absolute path")

// StorePath returns the store path: flag when it is not empty (a program's
// own --store), else HUSH_STORE, else $XDG_DATA_HOME/hush/store.age, else
// $HOME/.local/share/hush/store.age. The file need not exist.
//
// It returns an error wrapping [ErrNoHome] when none of these is set. A
// relative XDG_DATA_HOME or HOME is ignored, as the XDG base directory
// specification asks, so the answer never depends on the working
// directory unless flag or HUSH_STORE says so.
func StorePath(flag string, getenv Getenv) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if p := getenv.get("HUSH_STORE"); p != "" {
		return p, nil
	}
	if d := getenv.abs("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "hush", "store.age"), nil
	}
	if h := getenv.abs("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "hush", "store.age"), nil
	}
	return "", fmt.Errorf("cannot locate the store: %w, nor XDG_DATA_HOME, HUSH_STORE or --store", ErrNoHome)
}

// IdentityPath returns the default identity file:
// $XDG_CONFIG_HOME/hush/identity.txt, else $HOME/.config/hush/identity.txt.
// It is the last place [Identities] looks, and where `hush keygen` and
// `hush init` write a new identity. The file need not exist.
//
// It returns an error wrapping [ErrNoHome] when neither is set; a relative
// XDG_CONFIG_HOME or HOME is ignored, as for [StorePath].
func IdentityPath(getenv Getenv) (string, error) {
	if d := getenv.abs("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "hush", "identity.txt"), nil
	}
	if h := getenv.abs("HOME"); h != "" {
		return filepath.Join(h, ".config", "hush", "identity.txt"), nil
	}
	return "", fmt.Errorf("cannot locate the default identity file: %w, nor XDG_CONFIG_HOME", ErrNoHome)
}

// StateDir returns the directory where hush keeps what it has accepted of
// each store (see store.Options.StateDir): $XDG_STATE_HOME/hush, else
// $HOME/.local/state/hush. It need not exist.
//
// It returns an error wrapping [ErrNoHome] when neither is set; a
// relative XDG_STATE_HOME or HOME is ignored, as for [StorePath].
func StateDir(getenv Getenv) (string, error) {
	if d := getenv.abs("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "hush"), nil
	}
	if h := getenv.abs("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "hush"), nil
	}
	return "", fmt.Errorf("cannot locate the state directory: %w, nor XDG_STATE_HOME", ErrNoHome)
}

// abs returns the variable key if it holds an absolute path, else "".
func (g Getenv) abs(key string) string {
	if p := g.get(key); filepath.IsAbs(p) {
		return p
	}
	return ""
}

// Options say where [Identities] looks and how it reads what it finds.
type Options struct {
	// Files are a program's --identity flags. When any is given, all of
	// them are read and nothing else is consulted.
	Files []string
	// Getenv looks up HUSH_IDENTITY, HUSH_IDENTITY_FILE, XDG_CONFIG_HOME
	// and HOME; nil means os.Getenv.
	Getenv Getenv
	// AllowInsecurePermissions accepts identity files that group or
	// others can access or another user owns. Nothing in the environment
	// sets it.
	AllowInsecurePermissions bool
	// IdentityOptions say how the identities are parsed: the passphrase
	// source for encrypted identities, the UI for plugins.
	store.IdentityOptions
}

// Found are the identities [Identities] found and where it found them.
type Found struct {
	Identities []age.Identity
	// From names the source: "--identity", "HUSH_IDENTITY",
	// "HUSH_IDENTITY_FILE", or the path of the default identity file.
	From string
	// Paths are the files read; none for HUSH_IDENTITY.
	Paths []string
}

// Identities finds the caller's identities; the first source found wins:
// o.Files, HUSH_IDENTITY (the key text), HUSH_IDENTITY_FILE (a path), then
// the file at [IdentityPath]. A later source is never read, even a broken
// one. A file that is named but missing is an error, not a reason to look
// further; only a missing default file is.
//
// It returns an error wrapping [store.ErrNoIdentity] when no source is
// set and there is no default file (and [ErrNoHome] too when nothing
// names the default file), [store.ErrInsecurePermissions] (a
// [*store.PermissionError] naming the file) for an identity file that
// group or others can access or another user owns unless
// o.AllowInsecurePermissions, and
// [store.ErrInvalidIdentity] for one that does not parse. Errors name files
// and lines, never key material.
func Identities(o Options) (*Found, error) {
	if len(o.Files) > 0 {
		var all []age.Identity
		for _, p := range o.Files {
			ids, err := o.readFile(p)
			if err != nil {
				return nil, err
			}
			all = append(all, ids...)
		}
		return &Found{Identities: all, From: "--identity", Paths: o.Files}, nil
	}
	if k := o.Getenv.get("HUSH_IDENTITY"); k != "" {
		ids, err := store.ParseIdentities("HUSH_IDENTITY", []byte(k), o.IdentityOptions)
		if err != nil {
			return nil, err
		}
		return &Found{Identities: ids, From: "HUSH_IDENTITY"}, nil
	}
	if p := o.Getenv.get("HUSH_IDENTITY_FILE"); p != "" {
		ids, err := o.readFile(p)
		if err != nil {
			return nil, err
		}
		return &Found{Identities: ids, From: "HUSH_IDENTITY_FILE", Paths: []string{p}}, nil
	}
	p, err := IdentityPath(o.Getenv)
	if err != nil {
		return nil, fmt.Errorf("%w (looked at --identity, HUSH_IDENTITY and HUSH_IDENTITY_FILE; %w)", store.ErrNoIdentity, err)
	}
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w (looked at --identity, HUSH_IDENTITY, HUSH_IDENTITY_FILE and %s)", store.ErrNoIdentity, p)
	}
	ids, err := o.readFile(p)
	if err != nil {
		return nil, err
	}
	return &Found{Identities: ids, From: p, Paths: []string{p}}, nil
}

// readFile reads and parses the identity file at p (see readIdentityFile).
func (o Options) readFile(p string) ([]age.Identity, error) {
	data, err := readIdentityFile(p, o.AllowInsecurePermissions)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	return store.ParseIdentities(p, data, o.IdentityOptions)
}

// MaxIdentityFileSize is the largest identity file read. A larger one is
// refused with an error wrapping store.ErrLimit, never cut short.
const MaxIdentityFileSize = 16 << 20

// readIdentityFile returns the content of the identity file at p; the
// caller clears it. It refuses, unread, what is not a regular file (a
// named pipe, a device: refused at once, never waited on), a file that
// group or others can access or another user owns unless allowInsecure
// (a *store.PermissionError), and one over MaxIdentityFileSize (an error
// wrapping store.ErrLimit).
func readIdentityFile(p string, allowInsecure bool) ([]byte, error) {
	f, fi, err := inputfile.Open(p)
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	defer f.Close()
	if !allowInsecure {
		if err := store.CheckPermissions(p, fi); err != nil {
			return nil, err
		}
	}
	data, err := inputfile.Read(f, "identity file "+p, MaxIdentityFileSize)
	if err != nil {
		return nil, err
	}
	return data, nil
}
