package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// Apply runs the migration unless the store records it complete, in which
// case it reads only that record and writes nothing (Report.AlreadyDone).
// p must be the raw store, not a User or Scoped view: the migration reads
// and writes reserved keys.
//
// Every planned move goes through three steps, each idempotent:
//
//  1. copy: a new key that exists is never overwritten. If it holds the
//     old key's value it is kept; if it holds another value the move is a
//     clash and neither key is touched. Otherwise the old value is read
//     and written under the new key. The check and the write are one
//     atomic change, so a new key created meanwhile by anyone else is
//     never clobbered.
//  2. verify: each new key written is read back through p and compared
//     with the value copied; on a difference the old key is kept. The
//     read-backs are one store.Update that changes nothing (on the file
//     store, one read of the store as written, under its lock, and no
//     write), not one Get per key.
//  3. delete: the old key is deleted if it still holds the new key's
//     value (already absent is fine; changed since the copy, it is kept
//     and the move becomes a clash), and once every move is through with
//     no clash, completion is recorded under __hush_migrate_<ID> (created
//     only if absent).
//
// The copies of all moves are one store.Update and the deletions with the
// record another, so on a store.Updater (the file store) a migration of
// any size is two writes, and a crash or error leaves either the old state,
// both keys, or the end state: every secret stays readable by its old name
// or through [Migration.Fallback], and a rerun converges. On a provider
// without atomic batches the same steps run one call at a time, with the
// same guarantees except that each check-then-write is not atomic.
// Several processes may apply the same migration at once.
//
// Errors are *StepError values naming the step (plan, copy, verify,
// delete, record) and, when one key caused it, the key; a failed commit of
// a whole batch names no key. A verify failure wraps ErrVerify; the moves
// that did verify are completed, the migration is not recorded, and the
// first failure is returned. Clashes (Report.Clashes) are reported the
// same way once everything else is done: the migration is not recorded,
// so a rerun after a person has kept one of the two values completes it,
// and, without a verify failure, the error wraps ErrClash and names the
// first clash. The report says what was done either way.
func (m Migration) Apply(ctx context.Context, p store.Provider) (*Report, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Name: m.ID()}
	done, err := m.Done(ctx, p)
	if err != nil {
		return rep, &StepError{Step: StepPlan, Err: err}
	}
	if done {
		rep.AlreadyDone = true
		return rep, nil
	}
	moves, _, err := m.moves(ctx, p)
	if err != nil {
		return rep, err
	}
	res, err := copyMoves(ctx, p, moves)
	if err != nil {
		return rep, err
	}
	verified := verifyAll(ctx, p, moves, res)
	var toDelete []Move
	var verifyErr, clashErr error
	for _, mv := range moves {
		switch r := res[mv.Old]; r.kind {
		case copyPresent:
			toDelete = append(toDelete, mv)
		case copyClash:
			mv.Clash = true
			rep.Clashes = append(rep.Clashes, mv)
		case copyAbsent:
			rep.Skipped = append(rep.Skipped, mv.Old)
		default:
			if err := verified[mv.Old]; err != nil {
				if verifyErr == nil {
					verifyErr = err
				}
				continue
			}
			toDelete = append(toDelete, mv)
		}
	}
	if len(rep.Clashes) > 0 {
		clashErr = &StepError{Key: rep.Clashes[0].Old, Step: StepCopy, Err: ErrClash}
	}
	late, recorded, err := m.deleteAndRecord(ctx, p, toDelete, verifyErr == nil && clashErr == nil)
	if err != nil {
		return rep, err
	}
	for _, mv := range toDelete {
		switch {
		case late[mv.Old]:
			mv.Clash = true
			rep.Clashes = append(rep.Clashes, mv)
			if clashErr == nil {
				clashErr = &StepError{Key: mv.Old, Step: StepDelete, Err: ErrClash}
			}
		case res[mv.Old].kind == copyPresent:
			rep.AlreadyPresent = append(rep.AlreadyPresent, mv.Old)
		default:
			rep.Moved = append(rep.Moved, mv.Old)
		}
	}
	rep.Recorded = recorded
	if verifyErr != nil {
		return rep, verifyErr
	}
	return rep, clashErr
}

// What step 1 did with one move.
const (
	copyDone    = iota // the old value was written under the new key
	copyPresent        // the new key already held the old key's value
	copyClash          // the new key already held another value; nothing written
	copyAbsent         // the old key was gone
)

type copyResult struct {
	kind  int
	value []byte // with copyDone, the value written
}

// copyMoves is step 1 for every move, as one batch. It returns what it did
// with each move, by old name.
func copyMoves(ctx context.Context, p store.Provider, moves []Move) (map[string]copyResult, error) {
	var res map[string]copyResult
	var key string // the key being worked on, for the error
	err := store.Update(ctx, p, func(tx store.Tx) error {
		res = make(map[string]copyResult, len(moves))
		for _, mv := range moves {
			key = mv.Old
			v, err := tx.Get(mv.Old)
			switch {
			case errors.Is(err, store.ErrNotFound):
				res[mv.Old] = copyResult{kind: copyAbsent} // moved or deleted by someone else since the plan
				continue
			case err != nil:
				return err
			}
			cur, err := tx.Get(mv.New)
			switch {
			case err == nil && bytes.Equal(cur, v):
				res[mv.Old] = copyResult{kind: copyPresent}
				continue
			case err == nil:
				res[mv.Old] = copyResult{kind: copyClash}
				continue
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			if err := tx.Set(mv.New, v); err != nil {
				return err
			}
			res[mv.Old] = copyResult{kind: copyDone, value: v}
		}
		key = "" // from here on the batch as a whole failed
		return nil
	})
	if err != nil {
		return nil, &StepError{Key: key, Step: StepCopy, Err: err}
	}
	return res, nil
}

// verifyAll is step 2 for every move copied (res: copyDone): read the new
// key back through p and compare, all in one batch that writes nothing.
// It returns the failures, by old name; a batch that fails as a whole
// fails every move it was to verify.
func verifyAll(ctx context.Context, p store.Provider, moves []Move, res map[string]copyResult) map[string]error {
	failed := map[string]error{}
	err := store.Update(ctx, p, func(tx store.Tx) error {
		clear(failed)
		for _, mv := range moves {
			if r := res[mv.Old]; r.kind == copyDone {
				if err := verify(tx, mv, r.value); err != nil {
					failed[mv.Old] = err
				}
			}
		}
		return nil
	})
	if err != nil {
		for _, mv := range moves {
			if res[mv.Old].kind == copyDone {
				failed[mv.Old] = &StepError{Key: mv.Old, Step: StepVerify, Err: err}
			}
		}
	}
	return failed
}

// verify reads the new key of mv back through tx and compares it with want.
func verify(tx store.Tx, mv Move, want []byte) error {
	got, err := tx.Get(mv.New)
	if err != nil {
		return &StepError{Key: mv.Old, Step: StepVerify, Err: err}
	}
	if !bytes.Equal(got, want) {
		return &StepError{Key: mv.Old, Step: StepVerify, Err: fmt.Errorf("%w; the old key is kept", ErrVerify)}
	}
	return nil
}

// recordValue is what a completed migration's record holds: when, and by
// which rules. Nothing reads it back but people (hush ls --system).
type recordValue struct {
	Completed time.Time `json:"completed"`
	Rules     []string  `json:"rules"`
}

// deleteAndRecord is step 3 as one batch: delete each move's old key if
// it still holds its new key's value and, if record is set and no old key
// was kept, record the migration complete unless it already is. It returns
// the old keys it kept because their value differed from the new key's
// (by old name), and whether it wrote the record. A new key that is gone
// fails the batch, keeping its old key.
func (m Migration) deleteAndRecord(ctx context.Context, p store.Provider, moves []Move, record bool) (map[string]bool, bool, error) {
	rv := recordValue{Completed: time.Now().UTC().Truncate(time.Second)}
	for _, r := range m.Rules {
		rv.Rules = append(rv.Rules, r.String())
	}
	val, err := json.Marshal(rv)
	if err != nil {
		return nil, false, &StepError{Step: StepRecord, Err: err}
	}
	recKey := scope.Key(RecordScope, m.ID())
	key, step := "", StepDelete
	var wrote bool
	var kept map[string]bool
	err = store.Update(ctx, p, func(tx store.Tx) error {
		wrote, step, kept = false, StepDelete, map[string]bool{}
		for _, mv := range moves {
			key = mv.Old
			old, err := tx.Get(mv.Old)
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue // deleted by another process applying the migration
			case err != nil:
				return err
			}
			cur, err := tx.Get(mv.New)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return errNewGone
			case err != nil:
				return err
			case !bytes.Equal(cur, old):
				kept[mv.Old] = true // changed since the copy: a clash now
				continue
			}
			if err := tx.Delete(mv.Old); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		key = ""
		if !record || len(kept) > 0 {
			return nil
		}
		step = StepRecord
		_, err := tx.Get(recKey)
		switch {
		case err == nil:
			return nil // another process recorded it first
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		wrote = true
		return tx.Set(recKey, val)
	})
	if err != nil {
		return nil, false, &StepError{Key: key, Step: step, Err: err}
	}
	return kept, wrote, nil
}

// errNewGone fails step 3 for a move whose new key was deleted after it
// was written or found: the old key holds the only copy.
var errNewGone = errors.New("the new key is gone; the old key is kept")
