package store

import (
	"context"
	"errors"
)

// DeleteManyProvider is a Provider that can delete several names at once.
// [DeleteMany] uses the method when a Provider has it.
type DeleteManyProvider interface {
	Provider

	// DeleteMany removes every name in names as one atomic change. Absent
	// names are ignored. If any name is refused, or the change cannot be
	// written, it returns the error and deletes nothing. With nothing to
	// delete it writes nothing.
	DeleteMany(ctx context.Context, names []string) error
}

// CleanupProvider is a Provider that can delete everything it shows at
// once. [Cleanup] uses the method when a Provider has it.
type CleanupProvider interface {
	Provider

	// Cleanup deletes every entry this view lists, and nothing else, as one
	// atomic change. With nothing to delete it writes nothing. On error
	// nothing is deleted.
	Cleanup(ctx context.Context) error
}

// GetManyProvider is a Provider that can read several names at once.
// [GetMany] uses the method when a Provider has it.
type GetManyProvider interface {
	Provider

	// GetMany returns the values of names, in the order of names, all
	// read from one version of the store. Its errors are those of a loop
	// of Get calls that stops at the first error: if a name is refused
	// (ErrInvalidName, a view's refusal), absent (ErrNotFound) or the store
	// cannot be read, GetMany returns the values of the names before it
	// and that name's error, the *KeyError Get would give for it.
	GetMany(ctx context.Context, names []string) ([][]byte, error)
}

// GetMany returns the values of names from p, in the order of names:
//
//   - if p is a [GetManyProvider], GetMany calls its method: the file
//     and memory stores read the store once, so every value comes from
//     one version of it;
//   - otherwise it calls p.Get for each name in turn. A writer may then
//     replace the store partway, and each Get may read it again.
//
// Either way, on error it returns the values of the names before the
// failing one and that name's error, p's, unchanged.
func GetMany(ctx context.Context, p Provider, names []string) ([][]byte, error) {
	if g, ok := p.(GetManyProvider); ok {
		return g.GetMany(ctx, names)
	}
	return getAll(func(name string) ([]byte, error) { return p.Get(ctx, name) }, names)
}

// AllProvider is a Provider that can read every entry it lists, with its
// value, at once. [All] uses the method when a Provider has it.
type AllProvider interface {
	Provider

	// All returns the names List returns, in the same order, and their
	// values: values[i] is the value of names[i]. Everything comes from
	// one version of the store, read once, and nothing of an entry but its
	// name and value is built. The errors are List's: an empty view gives
	// no names and no error; a store that cannot be read gives the error
	// and no names or values.
	//
	// The values are the caller's, as Get's are, to read and to clear:
	// they may share one array, but no two overlap, appending to one never
	// writes into another, and nothing else writes to them.
	All(ctx context.Context) (names []string, values [][]byte, err error)
}

// All returns the names p lists, in List's order, and their values:
//
//   - if p is an [AllProvider], All calls its method: one read of the
//     store, and the names and values alone, not the metadata List
//     builds;
//   - otherwise it calls p.List, then [GetMany] with the names listed. A
//     writer may then delete an entry between the two, and All returns
//     the not-found error of its name.
//
// On error it returns no names and no values (the values already read are
// cleared), and the error, p's, unchanged.
func All(ctx context.Context, p Provider) (names []string, values [][]byte, err error) {
	if a, ok := p.(AllProvider); ok {
		return a.All(ctx)
	}
	es, err := p.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	names = entryNames(es)
	values, err = GetMany(ctx, p, names)
	if err != nil {
		for _, v := range values {
			clear(v)
		}
		return nil, nil, err
	}
	return names, values, nil
}

// getAll calls get for each name, stopping at the first error.
func getAll(get func(name string) ([]byte, error), names []string) ([][]byte, error) {
	vals := make([][]byte, 0, len(names))
	for _, n := range names {
		v, err := get(n)
		if err != nil {
			return vals, err
		}
		vals = append(vals, v)
	}
	return vals, nil
}

// DeleteMany removes names from p, ignoring the absent ones, in the best
// way p offers:
//
//   - if p is a [DeleteManyProvider], DeleteMany calls its method;
//   - otherwise, if p is an [Updater], it deletes the names in one Update:
//     one atomic change, all or nothing;
//   - otherwise it calls p.Delete for each name in turn and stops at the
//     first error other than not-found. This last way is not atomic: on
//     error the names before the failing one are gone and the rest are
//     not, and another writer may see the deletions one by one.
//
// The error, if any, is p's, unchanged.
func DeleteMany(ctx context.Context, p Provider, names []string) error {
	if d, ok := p.(DeleteManyProvider); ok {
		return d.DeleteMany(ctx, names)
	}
	if len(names) == 0 {
		return nil
	}
	if u, ok := p.(Updater); ok {
		return u.Update(ctx, func(tx Tx) error { return deleteAll(tx.Delete, names) })
	}
	return deleteAll(func(name string) error { return p.Delete(ctx, name) }, names)
}

// Cleanup deletes every entry p lists, and nothing else, in the best way p
// offers:
//
//   - if p is a [CleanupProvider], Cleanup calls its method;
//   - otherwise, if p is an [Updater], it lists and deletes in one Update:
//     one atomic change, and none at all when p lists nothing;
//   - otherwise it lists p and removes what it listed with [DeleteMany].
//     This last way is not atomic: an entry added between the listing and
//     the deletion survives, and unless p is a [DeleteManyProvider] a
//     failure partway leaves some entries deleted.
//
// The error, if any, is p's, unchanged.
func Cleanup(ctx context.Context, p Provider) error {
	if c, ok := p.(CleanupProvider); ok {
		return c.Cleanup(ctx)
	}
	if u, ok := p.(Updater); ok {
		return u.Update(ctx, func(tx Tx) error {
			es, err := tx.List()
			if err != nil {
				return err
			}
			return deleteAll(tx.Delete, entryNames(es))
		})
	}
	es, err := p.List(ctx)
	if err != nil {
		return err
	}
	return DeleteMany(ctx, p, entryNames(es))
}

// deleteAll calls del for each name, ignoring not-found, and returns the
// first other error.
func deleteAll(del func(name string) error, names []string) error {
	for _, n := range names {
		if err := del(n); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

func entryNames(es []Entry) []string {
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name
	}
	return names
}
