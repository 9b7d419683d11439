package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store/internal/format"
)

// Snapshot is a whole store in memory: its recipients and every entry with
// its value and metadata. Tools that work on stores as a whole (the git
// diff and merge drivers) read and write snapshots; everything else should
// use a [Provider].
//
// A Snapshot holds secret values. Never log or print one.
type Snapshot struct {
	// Recipients the store is encrypted to, in the stored order.
	Recipients []string
	// Entries by name.
	Entries map[string]SnapshotEntry
	// Armored reports (when read) or requests (when written) an
	// ASCII-armored file.
	Armored bool

	// The store key and rotation proofs, kept from the store read: a
	// Snapshot made from scratch gets a fresh key when written, and
	// readers who accepted another version then refuse it as a new store.
	// See MergeIntegrity.
	key       []byte
	rotations [][]byte
}

// SnapshotEntry is one secret with its metadata.
type SnapshotEntry struct {
	Value       []byte
	Description string
	Created     time.Time
	Updated     time.Time
}

// Names returns the entry names, sorted.
func (s *Snapshot) Names() []string { return slices.Sorted(maps.Keys(s.Entries)) }

// Snapshot decrypts the store and returns all of it. Its errors are those
// of Get for the store as a whole: ErrNoStore, ErrDecrypt,
// ErrInsecurePermissions, or an I/O error.
func (f *File) Snapshot(ctx context.Context) (*Snapshot, error) {
	d, err := f.load(ctx)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	armored := f.armored
	f.mu.Unlock()
	return d.snapshot(armored), nil
}

// DecryptSnapshot decrypts the bytes of a store file with ids. Unlike
// [Open] it applies no file policy (permissions): it is for store
// versions that arrive as bytes, such as the blobs git hands to a diff or
// merge driver. Empty input is an error wrapping ErrNoStore; a file that
// does not decrypt, or decrypts to something that is not a store
// document, is an error wrapping ErrDecrypt.
func DecryptSnapshot(ciphertext []byte, ids []age.Identity) (*Snapshot, error) {
	if len(bytes.TrimSpace(ciphertext)) == 0 {
		return nil, ErrNoStore
	}
	if len(ciphertext) > 2*MaxStoreSize {
		return nil, fmt.Errorf("%w: file is %d bytes", ErrLimit, len(ciphertext))
	}
	d, armored, err := decryptDocument(ciphertext, ids)
	if err != nil {
		return nil, err
	}
	return d.snapshot(armored), nil
}

// EncryptSnapshot validates s and encrypts it to s.Recipients with a fresh
// file key, armored if s.Armored, returning the bytes of a store file.
// Entry metadata is kept as given. opts supplies the passphrase of a
// passphrase store and the plugin UI; other fields are ignored. Invalid
// names or values give errors wrapping ErrInvalidName or ErrLimit, bad
// recipients ErrInvalidRecipient.
func EncryptSnapshot(s *Snapshot, opts Options) ([]byte, error) {
	d, err := s.document()
	if err != nil {
		return nil, err
	}
	f := newFile("", opts)
	f.armored = s.Armored
	return f.encrypt(d)
}

// WriteSnapshot atomically replaces (or creates) the store at path with s,
// encrypted to s.Recipients, holding the store's lock as every writer
// does. Metadata (description, created, updated) is kept as given; the
// caller need not be able to decrypt the result. On any error the old
// store is untouched. Errors are those of [EncryptSnapshot], ErrLockTimeout,
// or an I/O error.
func WriteSnapshot(ctx context.Context, path string, s *Snapshot, opts Options) error {
	d, err := s.document()
	if err != nil {
		return &StoreError{Path: path, Err: err}
	}
	f := newFile(path, opts)
	f.armored = s.Armored
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return &StoreError{Path: path, Err: err}
	}
	return f.locked(ctx, func() error {
		if err := f.write(d, false); err != nil {
			return &StoreError{Path: path, Err: err}
		}
		return nil
	})
}

func (d *document) snapshot(armored bool) *Snapshot {
	s := &Snapshot{
		Recipients: slices.Clone(d.Recipients),
		Entries:    make(map[string]SnapshotEntry, d.len()),
		Armored:    armored,
		key:        bytes.Clone(d.key),
		rotations:  slices.Clone(d.rotations),
	}
	d.each(func(fd *format.Document, i int, e *docEntry) {
		if e == nil {
			e = (*docEntry)(fd.Record(&fd.Entries[i]))
		}
		s.Entries[e.Name] = SnapshotEntry{Value: e.bytes(), Description: e.Description, Created: e.Created, Updated: e.Updated}
	})
	return s
}

// document converts s, validating names, values and the recipient list.
func (s *Snapshot) document() (*document, error) {
	if len(s.Recipients) == 0 {
		return nil, errors.New("store: snapshot has no recipients")
	}
	d := newDocument(slices.Clone(s.Recipients))
	if s.key != nil {
		d.key, d.rotations = bytes.Clone(s.key), slices.Clone(s.rotations)
	}
	for name, e := range s.Entries {
		if err := ValidateName(name); err != nil {
			return nil, &KeyError{Op: "write", Name: name, Err: err}
		}
		if err := validateValue(e.Value); err != nil {
			return nil, &KeyError{Op: "write", Name: name, Err: err}
		}
		ne := newEntry(name, e.Value)
		ne.Description, ne.Created, ne.Updated = e.Description, e.Created.UTC(), e.Updated.UTC()
		d.put(name, ne)
	}
	return d, nil
}

// encrypt returns the store file bytes for d: the document encrypted to
// its recipients, armored if f.armored.
func (f *File) encrypt(d *document) ([]byte, error) {
	rs, err := f.parseRecipients(d.Recipients)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, _, err := f.encryptTo(&buf, d, rs); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
