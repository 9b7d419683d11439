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
	// The names, for the batch's read and then its write.
	names := make([]string, len(secrets))
	for i, s := range secrets {
		names[i] = s.Name
	}
	return importLists(ctx, p, names, func(i int) []byte { return secrets[i].Value }, nil, mode)
}

// ImportLists is [Import] of the secrets named names[i] with the values
// values[i]: no list of secrets made of them. When every name is added,
// the report's list of additions is names itself. Lists of different
// lengths are an error.
func ImportLists(ctx context.Context, p store.Provider, names []string, values [][]byte, mode ImportMode) (*ImportReport, error) {
	if len(names) != len(values) {
		return nil, fmt.Errorf("formats: import: %d names and %d values", len(names), len(values))
	}
	return importLists(ctx, p, names, func(i int) []byte { return values[i] }, values, mode)
}

// importLists is Import of the secrets named names, whose values value
// gives (values, if not nil, lists them). names is changed only when it
// is not the caller's (values is nil).
func importLists(ctx context.Context, p store.Provider, names []string, value func(i int) []byte, values [][]byte, mode ImportMode) (*ImportReport, error) {
	if mode < ImportFail || mode > ImportSkipExisting {
		return nil, fmt.Errorf("formats: import: unknown mode %d", mode)
	}
	if err := checkNames("import", len(names), func(i int) string { return names[i] }); err != nil {
		return nil, err
	}
	for i, n := range names {
		if err := store.ValidateName(n); err != nil {
			return nil, &store.KeyError{Op: "import", Name: n, Err: err}
		}
		if v := value(i); len(v) > store.MaxValueLen {
			return nil, &store.KeyError{Op: "import", Name: n,
				Err: fmt.Errorf("%w: value is %d bytes, the limit is %d", store.ErrLimit, len(v), store.MaxValueLen)}
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
		// secrets grows by copies.
		act := make([]importAction, len(names))
		var count [actions]int
		for i, c := range cur {
			switch v := value(i); {
			case c == nil:
				act[i] = actAdd
			case bytes.Equal(c, v):
				act[i] = actUnchanged
			case mode == ImportOverwrite:
				act[i] = actOverwrite
			case mode == ImportSkipExisting:
				act[i] = actSkip
			default:
				act[i] = actClash
			}
			count[act[i]]++
		}
		if count[actClash] > 0 {
			clashes := make([]string, 0, count[actClash])
			for i, n := range names {
				if act[i] == actClash {
					clashes = append(clashes, n)
				}
			}
			return &ClashError{Names: clashes}
		}
		// Every secret new (an import into an empty store): the names
		// and values to write are those given, and the list of names the
		// report's list of additions.
		rep = &ImportReport{Overwritten: sized(count[actOverwrite]),
			Unchanged: sized(count[actUnchanged]), Skipped: sized(count[actSkip])}
		set := names
		if count[actAdd] == len(names) {
			if values == nil {
				values = cur[:0]
				for i := range names {
					values = append(values, value(i))
				}
			}
			if err := store.TxSetMany(tx, set, values); err != nil {
				return err
			}
			rep.Added = set // TxSetMany keeps neither list
			return nil
		}
		// Else they go into the array of cur, read no more past each
		// index, and of names when it is not the caller's.
		rep.Added = sized(count[actAdd])
		lists := [actions]*[]string{actAdd: &rep.Added, actOverwrite: &rep.Overwritten,
			actUnchanged: &rep.Unchanged, actSkip: &rep.Skipped}
		for i, n := range names {
			*lists[act[i]] = append(*lists[act[i]], n)
		}
		if values != nil {
			set = make([]string, 0, count[actAdd]+count[actOverwrite])
		}
		set, put := set[:0], cur[:0]
		for i, n := range names {
			if act[i] == actAdd || act[i] == actOverwrite {
				set, put = append(set, n), append(put, value(i))
			}
		}
		return store.TxSetMany(tx, set, put)
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
