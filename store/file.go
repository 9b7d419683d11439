package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"filippo.io/age"
	"filippo.io/age/plugin"
)

// DefaultLockTimeout is how long a writer waits for the lock by default.
const DefaultLockTimeout = 10 * time.Second

// Options configure a file store.
type Options struct {
	// Identities decrypt the store. All are tried.
	Identities []age.Identity
	// Passphrase, if set, decrypts and re-encrypts a passphrase (scrypt)
	// store, whose recipient list is the single entry "scrypt".
	Passphrase string
	// LockTimeout bounds the wait for the write lock; zero means
	// DefaultLockTimeout. The context's deadline also applies.
	LockTimeout time.Duration
	// AllowInsecurePermissions opens a store that someone else could
	// replace (see [CheckStorePermissions]) and accepts a lock file owned
	// by another user. A lock path holding something other than a regular
	// file is refused all the same. The library never reads the
	// environment for it: the hush command sets it from its own
	// environment (docs/CLI.md).
	AllowInsecurePermissions bool
	// Armor makes Create write an ASCII-armored store. An existing store
	// keeps the encoding it has.
	Armor bool
	// PluginUI is handed to age plugins for recipients stored in the
	// document. Nil means plugins may not interact with the user.
	PluginUI *plugin.ClientUI
	// Now is the clock for entry timestamps; nil means time.Now.
	Now func() time.Time
	// StateDir, when set, turns on the integrity check: the directory
	// (created 0700) where this client records, per store, the version it
	// last accepted (see [File.Trust]). A store whose writer could not
	// read that version is refused with an *IntegrityError
	// (ErrUntrusted); the first read of a store trusts what it finds.
	// Empty means no check. The library never reads the environment for
	// it: the hush CLI passes $XDG_STATE_HOME/hush.
	StateDir string
	// Warn, if set, hears of a version read with a caveat: one line, an
	// older version superseded since by a key rotation, which is read
	// but never written.
	Warn func(msg string)

	scryptWorkFactor int // test seam: cheaper scrypt for passphrase stores; 0 is age's default
}

// PassphraseRecipient is the recipient-list entry of a passphrase store.
const PassphraseRecipient = "scrypt"

// File is the age-encrypted file provider. It is safe for concurrent use
// by several goroutines and several processes.
type File struct {
	ops
	path string
	opts Options

	mu      sync.Mutex // guards the fields below
	cached  *document
	cacheID fileID
	armored bool
	held    fileRecord // for RecordReads
}

var (
	_ Provider = (*File)(nil)
	_ Updater  = (*File)(nil)
)

// fileID identifies one version of the store file. Every write replaces
// the inode, and inode numbers are reused, so size and times are part of it.
type fileID struct {
	dev, ino, size                 uint64
	mtimeS, mtimeN, ctimeS, ctimeN int64
}

func idOf(fi fs.FileInfo) fileID {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino, size: uint64(st.Size),
		mtimeS: st.Mtim.Sec, mtimeN: st.Mtim.Nsec, ctimeS: st.Ctim.Sec, ctimeN: st.Ctim.Nsec}
}

// Open opens the store at path. It returns an error wrapping ErrNoStore if
// the file is missing or empty, and a *PermissionError
// (ErrInsecurePermissions) if someone else could replace it (see
// [CheckStorePermissions]) or its lock file is owned by another user or is
// not a regular file. The file is decrypted on first use.
func Open(path string, opts Options) (*File, error) {
	f := newFile(path, opts)
	fi, err := os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		return nil, &StoreError{Path: path, Err: notRegular(fi.Mode())}
	}
	if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Size() == 0) {
		return nil, &StoreError{Path: path, Err: ErrNoStore}
	}
	if err != nil {
		return nil, &StoreError{Path: path, Err: err}
	}
	if err := f.checkPerm(fi); err != nil {
		return nil, err
	}
	return f, nil
}

// Create makes a new, empty store at path encrypted to recipients, creating
// its directory 0700 and the file 0600. It refuses (ErrExists) to replace a
// store that exists and is not empty, and returns a *PermissionError
// (ErrInsecurePermissions) where [Open] would refuse the new store for its
// directory or its lock file. The caller need not be able to decrypt the
// new store.
func Create(ctx context.Context, path string, recipients []string, opts Options) (*File, error) {
	f := newFile(path, opts)
	f.armored = opts.Armor
	rs, err := f.parseRecipients(recipients)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, &StoreError{Path: path, Err: errors.New("no recipients")}
	}
	if err := checkTarget(path); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, &StoreError{Path: path, Err: err}
	}
	if err := f.checkCreate(); err != nil {
		return nil, err
	}
	err = f.locked(ctx, func() error {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return ErrExists
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		d := newDocument(append([]string(nil), recipients...))
		d.givenPlugins = recipients
		return f.write(d, false)
	})
	if err != nil {
		return nil, &StoreError{Path: path, Err: err}
	}
	return f, nil
}

func newFile(path string, opts Options) *File {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.Passphrase != "" {
		if id, err := age.NewScryptIdentity(opts.Passphrase); err == nil {
			opts.Identities = append([]age.Identity{id}, opts.Identities...)
		}
	}
	f := &File{path: path, opts: opts}
	f.ops = ops{s: f}
	return f
}

// Path returns the store's path.
func (f *File) Path() string { return f.path }

// LockPath returns the path of the store's lock file, beside the file a
// write replaces: when the store path is a symbolic link, beside the
// link's target, so that writers through the link and through the target
// take the same lock.
func (f *File) LockPath() string { return writePath(f.path) + ".lock" }

// Update runs fn atomically under the store's lock; see [Updater].
func (f *File) Update(ctx context.Context, fn func(Tx) error) error {
	return f.ops.Update(ctx, fn, "", "")
}

func (f *File) now() time.Time {
	if f.opts.Now != nil {
		return f.opts.Now()
	}
	return time.Now()
}

// load returns the current document, from the cache when the file is the
// one the cache was read from.
func (f *File) load(ctx context.Context) (*document, error) {
	fi, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &StoreError{Path: f.path, Err: ErrNoStore}
	}
	if err != nil {
		return nil, &StoreError{Path: f.path, Err: err}
	}
	if err := f.checkFile(fi); err != nil {
		return nil, err
	}
	id := idOf(fi)
	f.mu.Lock()
	if f.cached != nil && id == f.cacheID && id != (fileID{}) {
		d := f.cached
		f.mu.Unlock()
		return d, nil
	}
	f.mu.Unlock()
	return f.read()
}
