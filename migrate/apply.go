package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
//     with the value copied; on a difference the old key is kept.
//  3. delete: the old key is deleted if it still holds the new key's
//     value (already absent is fine; changed since the copy, it is kept
//     and the move becomes a clash), and once every move is through with
//     no clash, completion is recorded under __hush_migrate_<ID> (created
//     only if absent).
//
// On a store whose batches read back what they write (store.TxReadBack:
// the file and memory stores, and the views of package scope over them)
// a migration of any size is one batch and one write: it lists the keys
// to move, reads the old and the new keys, writes the copies, deletes the
// old keys copied or found present and, with no clash, records
// completion, each with the store's calls for many names (store.TxNames,
// TxValues, TxSetMany, TxDeleteMany); the store encrypts the result to a
// new file, fsyncs it, and before that file replaces the store, step 2
// decrypts it and compares every copied key's value with the old value
// read. A difference or a failed read fails the migration, naming the
// step (verify) and the key: the new file is removed and the store is
// left as it was. So the old keys are gone only at the rename, after the
// read-back of the very bytes that replace them, and a crash anywhere
// leaves the old store or the end state.
//
// Elsewhere the listing of the keys to move and the copies of all moves
// are one store.Update (so the moves are those of the keys as that batch
// finds them); the read-backs, the deletions and the record another, in
// which each move's new key is read back before its old key is deleted.
// On a store.Updater each batch reads all the keys it needs, then writes,
// with the calls for many names. The deletions are written only when that
// second batch commits, after every read-back, so they never reach the
// store before the copies they depend on were read back from the store as
// the first batch left it. A crash or error leaves either the old state,
// both keys, or the end state: every secret stays readable by its old
// name or through [Migration.Fallback], and a rerun converges. On a
// provider without atomic batches the same steps run one call at a time,
// each old key's deletion right after its new key's read-back, with the
// same guarantees except that each check-then-write is not atomic.
// Several processes may apply the same migration at once.
//
// Errors are *StepError values naming the step (plan, copy, verify,
// delete, record) and, when one key caused it, the key; a failed commit of
// a whole batch names no key (a failed commit of the one batch is step
// copy, of the second batch step delete). A verify failure wraps
// ErrVerify, or the read's error; in the one batch nothing is written;
// with two, the moves that did verify are completed, the migration is
// not recorded, and the first failure is returned. Clashes
// (Report.Clashes) are reported the same way once everything else is
// done: the migration is not recorded,
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
	rec, err := m.record()
	if err != nil {
		return rep, err
	}
	moves, st, err := m.copyMoves(ctx, p, rec)
	if err != nil {
		return rep, err
	}
	var clashErr error
	for i, mv := range moves {
		switch st.kind[i] {
		case copyClash:
			mv.Clash = true
			rep.Clashes = append(rep.Clashes, mv)
		case copyAbsent:
			rep.Skipped = append(rep.Skipped, mv.Old)
		}
	}
	if len(rep.Clashes) > 0 {
		clashErr = &StepError{Key: rep.Clashes[0].Old, Step: StepCopy, Err: ErrClash}
	}
	recorded := st.recorded
	if !st.finished {
		if recorded, err = m.finish(ctx, p, moves, st, rec, clashErr == nil); err != nil {
			return rep, err
		}
	}
	rep.Moved = make([]string, 0, st.count(copyDone))
	for i, mv := range moves {
		switch st.kind[i] {
		case lateClash:
			mv.Clash = true
			rep.Clashes = append(rep.Clashes, mv)
			if clashErr == nil {
				clashErr = &StepError{Key: mv.Old, Step: StepDelete, Err: ErrClash}
			}
		case copyPresent:
			rep.AlreadyPresent = append(rep.AlreadyPresent, mv.Old)
		case copyDone:
			rep.Moved = append(rep.Moved, mv.Old)
		}
	}
	rep.Recorded = recorded
	if st.verifyErr != nil {
		return rep, st.verifyErr
	}
	return rep, clashErr
}

// What the steps did with one move.
const (
	copyDone    = iota // the old value was written under the new key (and, after finish, read back and the old key deleted)
	copyPresent        // the new key already held the old key's value
	copyClash          // the new key already held another value; nothing written
	copyAbsent         // the old key was gone
	verifyFail         // written, but the read-back failed: the old key is kept
	lateClash          // the old key changed since the copy: it is kept
)

// moveState is what the steps did with each move, by index in the moves.
type moveState struct {
	kind  []uint8  // one of the constants above
	value [][]byte // with copyDone: the value written
	// written is the new keys of the moves copied, in the order of the
	// moves, when copyBatch wrote them.
	written []string
	// verifyErr is the first read-back that failed, a *StepError of step
	// verify.
	verifyErr error
	// finished is set when the copy's batch also read back, deleted and
	// recorded (see oneBatch), and recorded when it wrote the record.
	finished, recorded bool
}

// count returns how many moves are of kind k.
func (st *moveState) count(k uint8) int {
	n := 0
	for _, c := range st.kind {
		if c == k {
			n++
		}
	}
	return n
}

// copyMoves lists the moves and runs step 1 for every move, as one batch:
// the moves are those of the keys as the batch finds them. Where the
// batch can read back what it writes (store.TxReadBack), the same batch
// runs steps 2 and 3 too (see oneBatch) and sets st.finished.
func (m Migration) copyMoves(ctx context.Context, p store.Provider, rec record) ([]Move, *moveState, error) {
	var (
		moves   []Move
		st      *moveState
		planErr error
		key     string // the key being worked on, for the error
		step    = StepCopy
	)
	copyAll := copyEach
	_, atomic := p.(store.Updater)
	if atomic {
		copyAll = copyBatch
	}
	err := store.Update(ctx, p, func(tx store.Tx) error {
		key, step = "", StepCopy
		if moves, planErr = m.movesIn(tx); planErr != nil {
			return planErr
		}
		st = &moveState{kind: make([]uint8, len(moves)), value: make([][]byte, len(moves))}
		if atomic && store.TxReadBack(tx, func(values func([]string) ([][]byte, error)) error {
			step = StepVerify
			if err := readBackAll(values, moves, st, &key); err != nil {
				return err
			}
			key, step = "", StepCopy // a failed rename: nothing was written
			return nil
		}) {
			st.finished = true
			return oneBatch(tx, moves, st, rec, &key, &step)
		}
		if err := copyAll(tx, moves, st, &key); err != nil {
			return err
		}
		key = "" // from here on the batch as a whole failed
		return nil
	})
	var se *StepError
	switch {
	case planErr != nil:
		return nil, nil, planErr
	case errors.As(err, &se) && se.Step == StepVerify:
		return nil, nil, err // the read-back's own error
	case err != nil:
		return nil, nil, &StepError{Key: key, Step: step, Err: err}
	}
	return moves, st, nil
}

// recordValue is what a completed migration's record holds: when, and by
// which rules. Nothing reads it back but people (hush ls --system).
type recordValue struct {
	Completed time.Time `json:"completed"`
	Rules     []string  `json:"rules"`
}

// record is the key and value that record m complete.
type record struct {
	key   string
	value []byte
}

// record returns the record of m's completion, as of now.
func (m Migration) record() (record, error) {
	rv := recordValue{Completed: time.Now().UTC().Truncate(time.Second)}
	for _, r := range m.Rules {
		rv.Rules = append(rv.Rules, r.String())
	}
	val, err := json.Marshal(rv)
	if err != nil {
		return record{}, &StepError{Step: StepRecord, Err: err}
	}
	return record{key: scope.Key(RecordScope, m.ID()), value: val}, nil
}

// write sets the record in tx unless it is there already (another
// process recorded it first), and reports whether it did.
func (r record) write(tx store.Tx) (bool, error) {
	_, err := tx.Get(r.key)
	switch {
	case err == nil:
		return false, nil
	case !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	return true, tx.Set(r.key, r.value)
}

// finish is steps 2 and 3 as one batch, for every move copied or found
// present (st.kind copyDone or copyPresent). For a move copied, it reads
// the new key back and compares it with the value written; on any
// difference or error it keeps the old key (st.kind becomes verifyFail)
// and goes on with the other moves. Then it deletes the old key if it
// still holds the new key's value (if not, it keeps it: st.kind becomes
// lateClash). If record is set and every move went through, it records
// the migration complete unless it already is. It returns whether it
// wrote the record, and sets st.verifyErr to the first read-back
// failure. A new key found present that is gone since fails the batch,
// keeping every old key.
func (m Migration) finish(ctx context.Context, p store.Provider, moves []Move, st *moveState, rec record, record bool) (bool, error) {
	kind := slices.Clone(st.kind) // st.kind as the copy left it, for a batch run again
	key, step := "", StepDelete
	var wrote bool
	_, atomic := p.(store.Updater)
	err := store.Update(ctx, p, func(tx store.Tx) error {
		wrote, step, st.verifyErr = false, StepDelete, nil
		copy(st.kind, kind)
		verifyDelete := verifyEach
		if atomic {
			verifyDelete = verifyBatch
		}
		kept, err := verifyDelete(tx, moves, st, &key)
		if err != nil {
			return err
		}
		key = ""
		if !record || kept {
			return nil
		}
		step = StepRecord
		wrote, err = rec.write(tx)
		return err
	})
	if err != nil {
		return false, &StepError{Key: key, Step: step, Err: err}
	}
	return wrote, nil
}

// readBack reads the new key of mv back through tx and compares it with
// want, the value written; it returns the value read.
func readBack(tx store.Tx, mv Move, want []byte) ([]byte, error) {
	got, err := tx.Get(mv.New)
	if err != nil {
		return nil, &StepError{Key: mv.Old, Step: StepVerify, Err: err}
	}
	if !bytes.Equal(got, want) {
		return nil, &StepError{Key: mv.Old, Step: StepVerify, Err: fmt.Errorf("%w; the old key is kept", ErrVerify)}
	}
	return got, nil
}

// errNewGone fails step 3 for a move whose new key was deleted after it
// was written or found: the old key holds the only copy.
var errNewGone = errors.New("the new key is gone; the old key is kept")
