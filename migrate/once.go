package migrate

import (
	"bytes"
	"fmt"

	"github.com/hush-secrets/hush/store"
)

// oneBatch is steps 1 to 3 of every move, and the record, in the one
// batch of a store that reads back what it writes (see copyMoves): the
// copies (copyBatch), the deletion of every old key copied or found
// present, and the record if no move clashed. The read-back, which the
// caller registered (readBackAll), runs on the store as written, before
// it replaces the store, so the old keys are gone only once every copy
// read back. It sets *key and *step for the error as it goes; a failed
// write of the batch is step copy, naming no key: nothing was written.
func oneBatch(tx store.Tx, moves []Move, st *moveState, rec record, key, step *string) error {
	if err := copyBatch(tx, moves, st, key); err != nil {
		return err
	}
	*key, *step = "", StepDelete
	del := make([]string, 0, len(moves))
	clash := false
	for i, mv := range moves {
		switch st.kind[i] {
		case copyDone, copyPresent:
			del = append(del, mv.Old)
		case copyClash:
			clash = true
		}
	}
	if err := store.TxDeleteMany(tx, del); err != nil {
		*key = oldOf(err, moves, func(mv Move) string { return mv.Old })
		return err
	}
	*key = ""
	if !clash {
		*step = StepRecord
		wrote, err := rec.write(tx)
		if err != nil {
			return err
		}
		st.recorded = wrote
	}
	*step = StepCopy
	return nil
}

// readBackAll reads the new key of every move copied from the store as
// written, with values (see store.ReadBackCheck), and compares it with
// the value copied. The first difference fails the batch with a
// *StepError of step verify naming its move's old key and wrapping
// ErrVerify; an error of values is returned as it is, with *key set to
// the old key of the move whose new key it names, if any.
func readBackAll(values func([]string) ([][]byte, error), moves []Move, st *moveState, key *string) error {
	news := st.written // the moves copied, in order; at: their indexes in moves, unless every move was
	var at []int
	if len(news) < len(moves) {
		at = make([]int, 0, len(news))
		for i := range moves {
			if st.kind[i] == copyDone {
				at = append(at, i)
			}
		}
	}
	*key = ""
	got, err := values(news)
	if err != nil {
		*key = oldOf(err, moves, func(mv Move) string { return mv.New })
		return err
	}
	for j := range news {
		i := j
		if at != nil {
			i = at[j]
		}
		if got[j] == nil || !bytes.Equal(got[j], st.value[i]) {
			return &StepError{Key: moves[i].Old, Step: StepVerify, Err: fmt.Errorf("%w (read back from the store as written); nothing was written", ErrVerify)}
		}
	}
	return nil
}
