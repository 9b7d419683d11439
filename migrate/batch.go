package migrate

import (
	"bytes"
	"errors"
	"slices"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// The steps of every move in a batch, two ways: one move after the other,
// call by call (copyEach, verifyEach), on a provider without atomic
// batches, where the order of the calls is what keeps each window short;
// and a call for many names at once (copyBatch, verifyBatch), on a
// store.Updater, whose batch is atomic, so that the order of its reads
// and writes inside it changes nothing: the reads of all moves, then the
// writes of all, each with the store's bulk methods (store.TxValues,
// store.TxSetMany, store.TxDeleteMany), which on the file store build no
// entry a name. Both set st and *key (the move being worked on, for the
// error) alike, and return the same errors.

// copyEach is step 1 for every move, one move after the other.
func copyEach(tx store.Tx, moves []Move, st *moveState, key *string) error {
	for i, mv := range moves {
		*key = mv.Old
		v, err := tx.Get(mv.Old)
		switch {
		case errors.Is(err, store.ErrNotFound):
			st.kind[i] = copyAbsent // moved or deleted by someone else since the plan
			continue
		case err != nil:
			return err
		}
		cur, err := tx.Get(mv.New)
		switch {
		case err == nil && bytes.Equal(cur, v):
			st.kind[i] = copyPresent
			continue
		case err == nil:
			st.kind[i] = copyClash
			continue
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := tx.Set(mv.New, v); err != nil {
			return err
		}
		st.kind[i], st.value[i] = copyDone, v
	}
	return nil
}

// copyBatch is step 1 for every move, as copyEach, in a few calls: the
// old keys' values, the new keys' (see newValues), and the new keys
// written (which it keeps in st.written).
func copyBatch(tx store.Tx, moves []Move, st *moveState, key *string) error {
	olds, news := make([]string, len(moves)), make([]string, len(moves))
	for i, mv := range moves {
		olds[i], news[i] = mv.Old, mv.New
	}
	vOld, err := store.TxValues(tx, olds)
	if err != nil {
		*key = moves[len(vOld)].Old
		return err
	}
	vNew, err := newValues(tx, moves, news, key)
	if err != nil {
		return err
	}
	n := 0
	for i := range moves {
		switch {
		case vOld[i] == nil:
			st.kind[i] = copyAbsent
		case vNew[i] == nil:
			st.kind[i], st.value[i] = copyDone, vOld[i]
			n++
		case bytes.Equal(vNew[i], vOld[i]):
			st.kind[i] = copyPresent
		default:
			st.kind[i] = copyClash
		}
	}
	names, values := news, vOld // every move copied, as in a first run
	if n < len(moves) {
		names, values = make([]string, 0, n), make([][]byte, 0, n)
		for i, mv := range moves {
			if st.kind[i] == copyDone {
				names, values = append(names, mv.New), append(values, st.value[i])
			}
		}
	}
	st.written = names
	if err := store.TxSetMany(tx, names, values); err != nil {
		*key = oldOf(err, moves, func(mv Move) string { return mv.New })
		return err
	}
	return nil
}

// newValues returns the values of news, the new keys of moves, as
// store.TxValues does, reading only those that exist: it lists the names
// in each scope the moves go to (store.TxNames; before a first run, none)
// and reads the values of those among news. On error it sets *key to the
// old key of the move whose read failed, if one did.
func newValues(tx store.Tx, moves []Move, news []string, key *string) ([][]byte, error) {
	var scopes []string
	exist := map[string]bool{}
	for _, mv := range moves {
		if slices.Contains(scopes, mv.Scope) {
			continue
		}
		scopes = append(scopes, mv.Scope)
		names, err := store.TxNames(tx, scope.Key(mv.Scope, ""))
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			exist[n] = true
		}
	}
	vals := make([][]byte, len(news))
	if len(exist) == 0 {
		return vals, nil
	}
	var read []string
	var at []int // the index in news of each of read
	for i, n := range news {
		if exist[n] {
			read, at = append(read, n), append(at, i)
		}
	}
	got, err := store.TxValues(tx, read)
	if err != nil {
		*key = moves[at[len(got)]].Old
		return nil, err
	}
	for j, i := range at {
		vals[i] = got[j]
	}
	return vals, nil
}

// oldOf returns the old key of the move whose key (name gives it) err, a
// *store.KeyError, names; "" if none does.
func oldOf(err error, moves []Move, name func(Move) string) string {
	var ke *store.KeyError
	if errors.As(err, &ke) {
		for _, mv := range moves {
			if name(mv) == ke.Name {
				return mv.Old
			}
		}
	}
	return ""
}

// verifyEach is steps 2 and 3 for every move copied or found present
// (see finish), one move after the other. It reports whether it kept an
// old key.
func verifyEach(tx store.Tx, moves []Move, st *moveState, key *string) (kept bool, err error) {
	for i, mv := range moves {
		k := st.kind[i]
		if k != copyDone && k != copyPresent {
			continue
		}
		*key = mv.Old
		old, err := tx.Get(mv.Old)
		gone := errors.Is(err, store.ErrNotFound) // deleted by another process applying the migration
		switch {
		case err != nil && !gone:
			return kept, err
		case gone && k == copyPresent:
			continue
		}
		// The last read before the deletion is the new key's, so that
		// without atomic batches the window in which it can go
		// unnoticed is as short as it can be.
		var cur []byte
		if k == copyDone {
			if cur, err = readBack(tx, mv, st.value[i]); err != nil {
				st.kind[i], kept = verifyFail, true
				if st.verifyErr == nil {
					st.verifyErr = err
				}
				continue
			}
		} else {
			cur, err = tx.Get(mv.New)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return kept, errNewGone
			case err != nil:
				return kept, err
			}
		}
		switch {
		case gone:
			continue
		case !bytes.Equal(cur, old):
			st.kind[i], kept = lateClash, true // changed since the copy: a clash now
			continue
		}
		if err := tx.Delete(mv.Old); err != nil && !errors.Is(err, store.ErrNotFound) {
			return kept, err
		}
	}
	return kept, nil
}

// verifyBatch is verifyEach in three calls: the old keys' values, the new
// keys' (the read-back), and the deletion of the old keys. A read-back
// that differs is read again with readBack, for its error.
func verifyBatch(tx store.Tx, moves []Move, st *moveState, key *string) (kept bool, err error) {
	var at []int // the moves to finish, by index in moves
	for i := range moves {
		if k := st.kind[i]; k == copyDone || k == copyPresent {
			at = append(at, i)
		}
	}
	olds, news := make([]string, len(at)), make([]string, len(at))
	for j, i := range at {
		olds[j], news[j] = moves[i].Old, moves[i].New
	}
	vOld, err := store.TxValues(tx, olds)
	if err != nil {
		*key = olds[len(vOld)]
		return false, err
	}
	vNew, err := store.TxValues(tx, news)
	if err != nil {
		*key = olds[len(vNew)]
		return false, err
	}
	del := make([]string, 0, len(at))
	for j, i := range at {
		mv, old, cur := moves[i], vOld[j], vNew[j]
		*key = mv.Old
		gone := old == nil
		switch {
		case gone && st.kind[i] == copyPresent:
			continue
		case st.kind[i] == copyPresent && cur == nil:
			return kept, errNewGone
		case st.kind[i] == copyDone && (cur == nil || !bytes.Equal(cur, st.value[i])):
			if cur, err = readBack(tx, mv, st.value[i]); err != nil {
				st.kind[i], kept = verifyFail, true
				if st.verifyErr == nil {
					st.verifyErr = err
				}
				continue
			}
		}
		switch {
		case gone:
			continue
		case !bytes.Equal(cur, old):
			st.kind[i], kept = lateClash, true // changed since the copy: a clash now
			continue
		}
		del = append(del, mv.Old)
	}
	*key = ""
	if err := store.TxDeleteMany(tx, del); err != nil {
		*key = oldOf(err, moves, func(mv Move) string { return mv.Old })
		return kept, err
	}
	return kept, nil
}
