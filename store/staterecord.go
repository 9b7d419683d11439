package store

import "path/filepath"

// fileRecord is the identity of a store file and its SHA-256.
type fileRecord struct {
	id  fileID
	sum [32]byte
}

// holdRead keeps the file d was read from for RecordReads, unless st
// names it already as the file last read or written: d is a version st
// saw, in another file (copied into place, checked out, chmod'ed), so its
// digest came from hashing the whole file.
func (f *File) holdRead(st *AcceptedState, d *document) {
	if d.fileID == (fileID{}) || st.last == d.fileID {
		return
	}
	f.mu.Lock()
	f.held = fileRecord{id: d.fileID, sum: d.digest}
	f.mu.Unlock()
}

// RecordReads records in the accepted state (see [Options].StateDir) the
// file of f's last read when that read found a version this client had
// accepted before in another file (a copy put in place, a checkout, a
// chmod): later reads of that file, by any process, then take its digest
// from the state instead of hashing the whole file.
//
// A read never writes this record itself, so that an operation that fails
// after a successful read leaves the state as it was: call RecordReads
// once the whole operation has succeeded (the hush command does, after
// every command that succeeds). Without it nothing is lost but time:
// each read of such a file hashes it again. It does nothing when the
// check is off, when the last read needs no record, or when f has written
// the store since (a write records its own file). An error means only
// that the state could not be written.
func (f *File) RecordReads() error {
	f.mu.Lock()
	r := f.held
	f.held = fileRecord{}
	current := r.id != (fileID{}) && r.id == f.cacheID
	f.mu.Unlock()
	if !current || f.opts.StateDir == "" {
		return nil
	}
	st, err := f.loadState()
	if err != nil || st == nil {
		return err
	}
	if !st.saw(r.sum) || st.last == r.id {
		return nil // accepted anew or recorded since, by this or another process
	}
	st.last, st.lastSum = r.id, r.sum
	abs, _ := filepath.Abs(f.path)
	return f.saveState(st.marshal(abs))
}
