package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// read decrypts the whole file and applies the integrity check (see
// check). On any error nothing read is kept.
func (f *File) read() (*document, error) {
	d, id, armored, err := f.decryptFile()
	if err != nil {
		return nil, err
	}
	if err := f.check(d); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.cached, f.cacheID, f.armored = d, id, armored
	f.mu.Unlock()
	return d, nil
}

// readUnchecked decrypts the whole file without the integrity check.
func (f *File) readUnchecked() (*document, error) {
	d, _, _, err := f.decryptFile()
	return d, err
}

// decryptFile decrypts the whole file, returning the document, the
// identity of the file it came from, and whether it was armored.
func (f *File) decryptFile() (*document, fileID, bool, error) {
	fh, err := openRegular(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fileID{}, false, &StoreError{Path: f.path, Err: ErrNoStore}
	}
	if err != nil {
		return nil, fileID{}, false, &StoreError{Path: f.path, Err: err}
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, fileID{}, false, &StoreError{Path: f.path, Err: err}
	}
	if err := f.checkPerm(fi); err != nil {
		return nil, fileID{}, false, err
	}
	if fi.Size() == 0 {
		return nil, fileID{}, false, &StoreError{Path: f.path, Err: fmt.Errorf("%w (the file is empty)", ErrNoStore)}
	}
	// Decrypt straight from the file: the ciphertext is never held whole.
	// The descriptor pins this version of the file, whatever renames
	// happen meanwhile.
	src := &ioErrReaderAt{r: fh}
	// What the integrity check needs (see check): the state, and the
	// file's digest. A big file is hashed while it is decrypted, by a
	// second goroutine reading the same descriptor (digestAside).
	var (
		state    *AcceptedState
		stateErr error
		digest   func() ([32]byte, error)
	)
	if f.opts.StateDir != "" {
		state, stateErr = f.loadStateTo(true)
		digest = digestAside(state, fh, idOf(fi), fi.Size())
	}
	d, armored, err := decryptDocumentAt(src, fi.Size(), f.opts.Identities)
	if digest != nil {
		sum, derr := digest() // waited for even after a failure: fh is closed on return
		if err == nil {
			d.fileID = idOf(fi)
			d.state, d.stateErr = state, stateErr
			d.digest, err = sum, derr
		}
	}
	if src.err != nil {
		err = src.err // a failed read is an I/O error, not a bad file
	}
	if err != nil {
		return nil, fileID{}, false, &StoreError{Path: f.path, Err: err}
	}
	return d, idOf(fi), armored, nil
}

// ioErrReaderAt remembers the first read error other than io.EOF.
type ioErrReaderAt struct {
	r   io.ReaderAt
	err error
}

func (e *ioErrReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := e.r.ReadAt(p, off)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

var armorHeader = []byte(armor.Header)

func isArmored(b []byte) bool { return bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), armorHeader) }

// decryptDocument decrypts and parses a whole store file; see
// decryptDocumentAt.
func decryptDocument(ciphertext []byte, ids []age.Identity) (*document, bool, error) {
	return decryptDocumentAt(bytes.NewReader(ciphertext), int64(len(ciphertext)), ids)
}

// decryptDocumentAt decrypts the store file src, whose size is size, and
// decodes its plaintext. A decryption error wraps ErrDecrypt, as does a
// plaintext that is not a store document (a *DecryptError whose Reason is
// a *DocumentError); a plaintext over MaxStoreSize is an error wrapping
// ErrLimit. On any error nothing decrypted is kept.
func decryptDocumentAt(src io.ReaderAt, size int64, ids []age.Identity) (*document, bool, error) {
	plain, armored, err := decryptPlainAt(src, size, ids)
	if err != nil {
		return nil, armored, err
	}
	d, err := decodeDocument(plain)
	if err != nil {
		clear(plain)
		var de *DocumentError
		if errors.As(err, &de) {
			return nil, armored, &DecryptError{Reason: err}
		}
		return nil, armored, err
	}
	return d, armored, nil
}

// decryptPlain is the decrypt stage of decryptDocument; see
// decryptPlainAt.
func decryptPlain(ciphertext []byte, ids []age.Identity) (plain []byte, armored bool, err error) {
	return decryptPlainAt(bytes.NewReader(ciphertext), int64(len(ciphertext)), ids)
}

// decryptPlainAt decrypts the whole age file (armored or not) src, whose
// size is size, into one buffer, and returns the plaintext only if every
// chunk authenticated to the end. On any error the buffer is cleared and
// the error wraps ErrDecrypt, or ErrLimit for a plaintext over
// MaxStoreSize.
//
// A binary file is decrypted with age's DecryptReaderAt: the plaintext
// size follows from the file size (and the last chunk, which age
// authenticates first), so the buffer is exact and one ReadAt fills it
// through a single chunk buffer. An armored file is streamed.
func decryptPlainAt(src io.ReaderAt, size int64, ids []age.Identity) (plain []byte, armored bool, err error) {
	if len(ids) == 0 {
		return nil, false, &DecryptError{Reason: errors.New("no identity was given")}
	}
	head := make([]byte, min(size, int64(armorPeek)))
	if _, err := src.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, false, err
	}
	if isArmored(head) {
		r := io.NewSectionReader(src, 0, min(size, 2*MaxStoreSize))
		plain, err := decryptArmored(r, size, ids)
		return plain, true, err
	}
	// The header stage first, so that its failures are told from the
	// payload's: DecryptHeader unwraps the file key with the identities,
	// DecryptReaderAt then only checks the header's MAC with it.
	hdr, err := age.ExtractHeader(io.NewSectionReader(src, 0, size))
	if err != nil {
		return nil, false, &DecryptError{Reason: err}
	}
	key, err := age.DecryptHeader(hdr, ids...)
	if err != nil {
		return nil, false, &DecryptError{Reason: err}
	}
	defer clear(key)
	if size < int64(len(hdr))+nonceSize {
		// Where age.Decrypt fails, before the payload.
		return nil, false, &DecryptError{Reason: fmt.Errorf("failed to read nonce: %w", io.ErrUnexpectedEOF)}
	}
	ra, n, err := age.DecryptReaderAt(src, size, age.NewInjectedFileKeyIdentity(key))
	if err != nil {
		return nil, false, &DecryptError{Reason: err, inPayload: true}
	}
	if n > MaxStoreSize {
		return nil, false, fmt.Errorf("%w: the store's plaintext is over %d bytes", ErrLimit, MaxStoreSize)
	}
	buf := plainBuffer(n)
	if m, err := ra.ReadAt(buf, 0); int64(m) != n || (err != nil && err != io.EOF) {
		clear(buf)
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, &DecryptError{Reason: err, inPayload: true}
	}
	return buf, false, nil
}

// nonceSize is the size of the nonce that starts an age payload.
const nonceSize = 16

// decryptArmored decrypts the armored age file read from src, whose size
// is size, as decryptPlainAt does.
func decryptArmored(src io.Reader, size int64, ids []age.Identity) ([]byte, error) {
	pr, _, err := openPayload(src, ids)
	if err != nil {
		return nil, err
	}
	// The plaintext is shorter than the file; one byte more detects a
	// payload over MaxStoreSize.
	buf := make([]byte, min(size, MaxStoreSize)+1)
	n, err := readPayload(pr, buf)
	if err != nil {
		clear(buf)
		return nil, err
	}
	return buf[:n], nil
}

// readPayload decrypts the payload pr into buf, to its end, and returns
// its length. The error wraps ErrDecrypt, or ErrLimit if the plaintext is
// too long.
func readPayload(pr io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := pr.Read(buf[n:])
		n += m
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, &DecryptError{Reason: err, inPayload: true}
		}
	}
	if len(buf) > MaxStoreSize {
		return n, fmt.Errorf("%w: the store's plaintext is over %d bytes", ErrLimit, MaxStoreSize)
	}
	return n, &DecryptError{Reason: errors.New("plaintext longer than the file"), inPayload: true}
}

// armorPeek is how far ahead openPayload looks for the armor header:
// age's armor reader allows this much leading whitespace.
const armorPeek = 1024 + len(armor.Header)

// openPayload reads the age header of the file src (armored or not) and
// returns the reader of its payload.
func openPayload(src io.Reader, ids []age.Identity) (pr io.Reader, armored bool, err error) {
	if len(ids) == 0 {
		return nil, false, &DecryptError{Reason: errors.New("no identity was given")}
	}
	br := bufio.NewReaderSize(src, armorPeek)
	head, _ := br.Peek(armorPeek)
	armored = isArmored(head)
	var r io.Reader = br
	if armored {
		r = armor.NewReader(r)
	}
	pr, err = age.Decrypt(r, ids...)
	if err != nil {
		return nil, armored, &DecryptError{Reason: err}
	}
	return pr, armored, nil
}
