package formats

import (
	"bytes"
	"context"
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
	// The names, checked, for the batch's read and then its write.
	names := make([]string, len(secrets))
	for i, s := range secrets {
		names[i] = s.Name
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
		// Every read and check before the first write, so that even a
		// provider without atomic batches writes nothing on a refusal:
		// one call for every read and one for every write, which the
		// file store and the views over it answer in one pass each.
		cur, err := store.TxValues(tx, names)
		if err != nil {
			return err
		}
		// What to do with each secret is one byte, and the report's lists
		// are sized from their counts: no list of a hundred thousand
		// secrets grows by copies. The names and values to write go into
		// the arrays of names and cur, read no more past each index.
		act := make([]importAction, len(secrets))
		var count [actions]int
		set, values := names[:0], cur[:0]
		for i, s := range secrets {
			switch {
			case cur[i] == nil:
				act[i] = actAdd
			case bytes.Equal(cur[i], s.Value):
				act[i] = actUnchanged
			case mode == ImportOverwrite:
				act[i] = actOverwrite
			case mode == ImportSkipExisting:
				act[i] = actSkip
			default:
				act[i] = actClash
			}
			count[act[i]]++
			if act[i] == actAdd || act[i] == actOverwrite {
				set, values = append(set, s.Name), append(values, s.Value)
			}
		}
		if count[actClash] > 0 {
			clashes := make([]string, 0, count[actClash])
			for i, s := range secrets {
				if act[i] == actClash {
					clashes = append(clashes, s.Name)
				}
			}
			return &ClashError{Names: clashes}
		}
		// Every secret new (an import into an empty store): the list of
		// names to write is the report's list of additions.
		allNew := count[actAdd] == len(secrets)
		rep = &ImportReport{Overwritten: sized(count[actOverwrite]),
			Unchanged: sized(count[actUnchanged]), Skipped: sized(count[actSkip])}
		if !allNew {
			rep.Added = sized(count[actAdd])
			lists := [actions]*[]string{actAdd: &rep.Added, actOverwrite: &rep.Overwritten,
				actUnchanged: &rep.Unchanged, actSkip: &rep.Skipped}
			for i, s := range secrets {
				*lists[act[i]] = append(*lists[act[i]], s.Name)
			}
		}
		if err := store.TxSetMany(tx, set, values); err != nil {
			return err
		}
		if allNew {
			rep.Added = set // TxSetMany keeps neither list
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// importAction is what Import does with one secret.
type importAction uint8

const (
	actAdd importAction = iota
	actOverwrite
	actUnchanged
	actSkip
	actClash
	actions // the number of actions
)

// sized returns an empty list with room for n names; nil for none.
func sized(n int) []string {
	if n == 0 {
		return nil
	}
	return make([]string, 0, n)
}
