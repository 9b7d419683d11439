package store

import (
	"crypto/sha256"
	"io"
	"os"
)

// fileDigest returns the SHA-256 of the store file fh (identified as id),
// from the state st when it is the file last read or written, else by
// reading fh from its start.
func fileDigest(st *AcceptedState, fh *os.File, id fileID) ([32]byte, error) {
	if st != nil && id != (fileID{}) && st.last == id {
		return st.lastSum, nil
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return [32]byte{}, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(fh, 2*MaxStoreSize)); err != nil {
		return [32]byte{}, err
	}
	return [32]byte(h.Sum(nil)), nil
}

// digestAsideMin is the size of a store file from which digestAside
// hashes it alongside its decryption: a 14 MiB file takes about 10 ms to
// hash, as long as a third of its decryption and decoding.
const digestAsideMin = 1 << 20

// digestAside returns a function that returns fileDigest(st, fh, id) for
// the store file fh of size bytes. For a file of digestAsideMin bytes or
// more whose digest st does not hold, it is computed at once by another
// goroutine, which reads fh with ReadAt only (so a decryption reading it
// meanwhile is undisturbed), and the function waits for it; the function
// must be called once, before fh is closed.
func digestAside(st *AcceptedState, fh *os.File, id fileID, size int64) func() ([32]byte, error) {
	if size < digestAsideMin || (st != nil && id != (fileID{}) && st.last == id) {
		return func() ([32]byte, error) { return fileDigest(st, fh, id) }
	}
	type result struct {
		sum [32]byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		h := sha256.New()
		_, err := io.Copy(h, io.NewSectionReader(fh, 0, 2*MaxStoreSize))
		done <- result{[32]byte(h.Sum(nil)), err}
	}()
	return func() ([32]byte, error) {
		r := <-done
		return r.sum, r.err
	}
}
