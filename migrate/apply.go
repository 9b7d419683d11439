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
//  1. copy: if the new key exists it is kept and never overwritten;
//     otherwise the old value is read and written under the new key. The
//     check and the write are one atomic change, so a new key created
//     meanwhile by anyone else is never clobbered.
//  2. verify: each new key written is read back through p and compared
//     with the value copied; on a difference the old key is kept.
//  3. delete: the old key is deleted (already absent is fine), and once
//     every move is through, completion is recorded under
//     __hush_migrate_<ID> (created only if absent).
//
// The copies of all moves are one store.Update and the deletions with the
// record another, so on a store.Updater (the file store) a migration of
// any size is two writes, and a crash or error leaves either the old state,
// both keys, or the end state: every secret stays readable by its old name
// or through [Migration.Fallback], and a rerun converges. On a provider
// without atomic batches the same steps run one call at a time, with the
// same guarantees except that the copy's check-then-write is not atomic.
// Several processes may apply the same migration at once.
//
// Errors are *StepError values naming the step (plan, copy, verify,
// delete, record) and, when one key caused it, the key; a failed commit of
// a whole batch names no key. A verify failure wraps ErrVerify; the moves
// that did verify are completed, the migration is not recorded, and the
// first failure is returned. The report says what was done either way.
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
	moves, err := m.Plan(ctx, p)
	if err != nil {
		return rep, err
	}
	copied, present, err := copyMoves(ctx, p, moves)
	if err != nil {
		return rep, err
	}
	var toDelete []string
	var verifyErr error
	for _, mv := range moves {
		switch v, ok := copied[mv.Old]; {
		case present[mv.Old]:
			toDelete = append(toDelete, mv.Old)
		case !ok:
			rep.Skipped = append(rep.Skipped, mv.Old)
		default:
			if err := verify(ctx, p, mv, v); err != nil {
				if verifyErr == nil {
					verifyErr = err
				}
				continue
			}
			toDelete = append(toDelete, mv.Old)
		}
	}
	recorded, err := m.deleteAndRecord(ctx, p, toDelete, verifyErr == nil)
	if err != nil {
		return rep, err
	}
	for _, old := range toDelete {
		if present[old] {
			rep.AlreadyPresent = append(rep.AlreadyPresent, old)
		} else {
			rep.Moved = append(rep.Moved, old)
		}
	}
	rep.Recorded = recorded
	return rep, verifyErr
}

// copyMoves is step 1 for every move, as one batch. It returns the values
// it copied and the moves whose new key was already present, by old name;
// a move in neither had no old key any more.
func copyMoves(ctx context.Context, p store.Provider, moves []Move) (copied map[string][]byte, present map[string]bool, err error) {
	var key string // the key being worked on, for the error
	err = store.Update(ctx, p, func(tx store.Tx) error {
		copied, present = map[string][]byte{}, map[string]bool{}
		for _, mv := range moves {
			key = mv.Old
			_, err := tx.Get(mv.New)
			switch {
			case err == nil:
				present[mv.Old] = true
				continue
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			v, err := tx.Get(mv.Old)
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue // moved or deleted by someone else since the plan
			case err != nil:
				return err
			}
			if err := tx.Set(mv.New, v); err != nil {
				return err
			}
			copied[mv.Old] = v
		}
		key = "" // from here on the batch as a whole failed
		return nil
	})
	if err != nil {
		return nil, nil, &StepError{Key: key, Step: StepCopy, Err: err}
	}
	return copied, present, nil
}

// verify is step 2: read the new key back through p and compare.
func verify(ctx context.Context, p store.Provider, mv Move, want []byte) error {
	got, err := p.Get(ctx, mv.New)
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

// deleteAndRecord is step 3 as one batch: delete the old keys and, if
// record is set, record the migration complete unless it already is. It
// reports whether it wrote the record.
func (m Migration) deleteAndRecord(ctx context.Context, p store.Provider, olds []string, record bool) (bool, error) {
	rv := recordValue{Completed: time.Now().UTC().Truncate(time.Second)}
	for _, r := range m.Rules {
		rv.Rules = append(rv.Rules, r.String())
	}
	val, err := json.Marshal(rv)
	if err != nil {
		return false, &StepError{Step: StepRecord, Err: err}
	}
	recKey := scope.Key(RecordScope, m.ID())
	key, step := "", StepDelete
	var wrote bool
	err = store.Update(ctx, p, func(tx store.Tx) error {
		wrote, step = false, StepDelete
		for _, old := range olds {
			key = old
			if err := tx.Delete(old); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		key = ""
		if !record {
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
		return false, &StepError{Key: key, Step: step, Err: err}
	}
	return wrote, nil
}
