package gitstore

import (
	"errors"
	"fmt"
	"os"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/internal/inputfile"
	"github.com/hush-secrets/hush/store"
)

// MergeFilesOptions configure [MergeFiles].
type MergeFilesOptions struct {
	// Identities decrypt the three versions.
	Identities []age.Identity
	// Path is the store's path in the repository (git's %P), used only in
	// messages.
	Path string
	// Store supplies the passphrase and plugin UI for encrypting the
	// result; other fields are ignored.
	Store store.Options
	// Accepted is what this client accepted of the store (see
	// store.AcceptedStateOf), or nil. The merge is encrypted to a plugin
	// recipient (which runs its plugin program) only if Accepted accepts
	// it, or, with no Accepted, if ours has it.
	Accepted *store.AcceptedState
}

// MergeReport says what a merge did. It never holds a value.
type MergeReport struct {
	Conflicts         []Conflict
	RecipientsAdded   []string // relative to ours
	RecipientsRemoved []string // relative to ours
	// LostAccess is set when none of the caller's identities can decrypt
	// the merged store: the other side removed them.
	LostAccess bool
}

// MergeFiles is git's merge driver: it decrypts the store files base
// (git's %O, empty or missing when the versions share no ancestor), ours
// (%A) and theirs (%B), merges them with [Merge], and replaces ours with
// the result encrypted to the merged recipients (armored if ours was).
//
// With conflicts it still writes ours: every clean change is applied and
// each conflicting name keeps our version, so the file is a valid store
// that a person finishes with `hush set` or `hush rm`; it then returns a
// *ConflictError (wrapping ErrConflict) with the report. Any other error
// (a version that cannot be decrypted: store.ErrDecrypt; an I/O error)
// leaves ours untouched. The replacement is atomic: a temporary file in
// ours' directory renamed over it, mode 0600.
func MergeFiles(base, ours, theirs string, opts MergeFilesOptions) (*MergeReport, error) {
	o, err := readVersion(base, "base", opts.Identities, true)
	if err != nil {
		return nil, err
	}
	a, err := readVersion(ours, "ours", opts.Identities, false)
	if err != nil {
		return nil, err
	}
	b, err := readVersion(theirs, "theirs", opts.Identities, false)
	if err != nil {
		return nil, err
	}
	defer clearSnapshot(o)
	defer clearSnapshot(a)
	defer clearSnapshot(b)

	merged, conflicts := Merge(o, a, b)
	rep := &MergeReport{Conflicts: conflicts}
	rep.RecipientsAdded, rep.RecipientsRemoved = RecipientChanges(a.Recipients, merged.Recipients)
	for _, r := range merged.Recipients {
		if !store.IsPluginRecipient(r) || opts.Accepted.AcceptsPlugin(r) || (opts.Accepted == nil && containsKey(a.Recipients, r)) {
			continue
		}
		return nil, fmt.Errorf("gitstore: merging %s: %w", name(opts.Path, ours), &store.IntegrityError{Path: name(opts.Path, ours), Plugin: r})
	}
	if len(merged.Recipients) == 0 {
		return nil, fmt.Errorf("gitstore: merging %s: no recipients would remain", name(opts.Path, ours))
	}
	data, err := store.EncryptSnapshot(merged, opts.Store)
	if err != nil {
		return nil, fmt.Errorf("gitstore: merging %s: %w", name(opts.Path, ours), err)
	}
	if _, err := store.DecryptSnapshot(data, opts.Identities); err != nil {
		rep.LostAccess = true
	}
	// Atomic, so a driver that dies midway leaves ours whole; unsynced (see
	// atomicfile.NoSync: git stores the result itself and can redo the
	// merge); no lock (git's merge files are private to the merge, and a
	// lock file would be left behind in the work tree).
	if err := atomicfile.WriteFile(ours, data, 0o600, atomicfile.NoSync()); err != nil {
		return nil, fmt.Errorf("gitstore: writing the merge of %s: %w", name(opts.Path, ours), err)
	}
	if len(conflicts) > 0 {
		return rep, &ConflictError{Path: opts.Path, Conflicts: conflicts}
	}
	return rep, nil
}

func name(repoPath, file string) string {
	if repoPath != "" {
		return repoPath
	}
	return file
}

// VersionError reports a merge input that could not be read; Which is
// "base", "ours" or "theirs". It wraps the cause (store.ErrDecrypt when
// the caller's identities do not open that version).
type VersionError struct {
	Which string
	Err   error
}

func (e *VersionError) Error() string { return "gitstore: reading " + e.Which + ": " + e.Err.Error() }
func (e *VersionError) Unwrap() error { return e.Err }

// readVersion reads and decrypts one merge input. An empty or missing
// file is an empty store when emptyOK.
func readVersion(path, which string, ids []age.Identity, emptyOK bool) (*store.Snapshot, error) {
	data, err := inputfile.ReadFile(path, store.MaxStoreSize)
	if emptyOK && errors.Is(err, os.ErrNotExist) {
		return &store.Snapshot{}, nil
	}
	if err != nil {
		return nil, &VersionError{Which: which, Err: err}
	}
	s, err := store.DecryptSnapshot(data, ids)
	if emptyOK && errors.Is(err, store.ErrNoStore) {
		return &store.Snapshot{}, nil
	}
	if err != nil {
		return nil, &VersionError{Which: which, Err: err}
	}
	return s, nil
}
