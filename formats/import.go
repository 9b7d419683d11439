package formats

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/hush-secrets/hush/store"
)

// ImportMode says what Import does with a name that already exists with a
// different value. An existing name with the same value is never a clash.
type ImportMode int

const (
	// ImportFail refuses the whole import (an error wrapping ErrClash).
	ImportFail ImportMode = iota
	// ImportOverwrite replaces the existing value.
	ImportOverwrite
	// ImportSkipExisting keeps the existing value.
	ImportSkipExisting
)

// ImportReport lists, by name, what an import did.
type ImportReport struct {
	Added       []string // new names
	Overwritten []string // existing names given the imported value (ImportOverwrite)
	Unchanged   []string // existing names that already held the imported value
	Skipped     []string // existing names with a different value, kept (ImportSkipExisting)
}

// Import writes secrets into p as one all-or-nothing change: through
// store.Update, so atomically when p is a store.Updater (the file store
// and the scope decorators are). Every name is checked and every clash
// found before anything is written; on any error nothing is written and
// the report is nil.
//
// Names are written as given: import through scope.User(p) to refuse
// reserved names (their errors wrap scope.ErrReserved), through
// scope.Scoped(p, s) to land in scope s, or through the raw store for
// [ParseToolHive] output, whose names are already reserved keys.
//
// Errors: a name given twice, or invalid for the store (store.ErrInvalidName,
// store.ErrLimit); a *ClashError (ErrClash) listing every clashing name in
// ImportFail mode; any error of p. The source the secrets came from is
// never touched: Import only has the values.
func Import(ctx context.Context, p store.Provider, secrets []Secret, mode ImportMode) (*ImportReport, error) {
	if mode < ImportFail || mode > ImportSkipExisting {
		return nil, fmt.Errorf("formats: import: unknown mode %d", mode)
	}
	if err := checkDuplicates("import", secrets); err != nil {
		return nil, err
	}
	for _, s := range secrets {
		if err := store.ValidateName(s.Name); err != nil {
			return nil, &store.KeyError{Op: "import", Name: s.Name, Err: err}
		}
		if len(s.Value) > store.MaxValueLen {
			return nil, &store.KeyError{Op: "import", Name: s.Name,
				Err: fmt.Errorf("%w: value is %d bytes, the limit is %d", store.ErrLimit, len(s.Value), store.MaxValueLen)}
		}
	}
	var rep *ImportReport
	err := store.Update(ctx, p, func(tx store.Tx) error {
		rep = &ImportReport{}
		var write []Secret
		var clashes []string
		// Every read and check before the first write, so that even a
		// provider without atomic batches writes nothing on a refusal.
		for _, s := range secrets {
			cur, err := tx.Get(s.Name)
			switch {
			case errors.Is(err, store.ErrNotFound):
				rep.Added = append(rep.Added, s.Name)
				write = append(write, s)
			case err != nil:
				return err
			case bytes.Equal(cur, s.Value):
				rep.Unchanged = append(rep.Unchanged, s.Name)
			case mode == ImportOverwrite:
				rep.Overwritten = append(rep.Overwritten, s.Name)
				write = append(write, s)
			case mode == ImportSkipExisting:
				rep.Skipped = append(rep.Skipped, s.Name)
			default:
				clashes = append(clashes, s.Name)
			}
		}
		if len(clashes) > 0 {
			return &ClashError{Names: clashes}
		}
		for _, s := range write {
			if err := tx.Set(s.Name, s.Value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}
