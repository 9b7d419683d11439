package store

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// ReadBackCheck checks what a batch wrote (see [ReadBackTx]). values
// returns the values of names in the store as written, in the order of
// names, as [TxValues] does in a Tx: nil for an absent name; its errors
// are TxValues', or the failure to read the written store back (the file
// store reads it on every call, the memory store on the first). The
// check must not retain values.
type ReadBackCheck func(values func(names []string) ([][]byte, error)) error

// ReadBackTx is a Tx whose batch can read back the store it writes
// before that replaces the store. [TxReadBack] uses the method when a Tx
// has it.
type ReadBackTx interface {
	Tx

	// ReadBack registers check, to run once the batch's changes are
	// written and before they replace the store, and reports whether it
	// will run. The file store encrypts the batch to a new file, fsyncs
	// it, and then runs check with values that decrypt that file with
	// the caller's identities, every chunk authenticated, and scan its
	// plaintext for the names asked, skipping the other entries: what
	// check reads is the durable bytes about to replace the store, not a
	// copy in memory, and no document is decoded for it. The memory
	// store runs check on its
	// document as encoded and decoded again. If check returns an error,
	// the batch fails with it as it is: the new file is removed and the
	// store is left as it was. A batch that changes nothing writes
	// nothing and runs no check. A later call replaces the check of an
	// earlier one. It returns false, and drops check, on a Tx that cannot
	// read back (the Tx of a view over a provider without it).
	ReadBack(check ReadBackCheck) bool
}

// TxReadBack registers check with tx if tx is a [ReadBackTx], and
// reports whether check will run; see ReadBackTx.ReadBack. The file and
// memory stores, and the views of package scope over them, read back;
// a Tx that forwards each call to a Provider (see [Update]) does not.
func TxReadBack(tx Tx, check ReadBackCheck) bool {
	if r, ok := tx.(ReadBackTx); ok {
		return r.ReadBack(check)
	}
	return false
}

var _ ReadBackTx = (*docTx)(nil)

// ReadBack implements [ReadBackTx]: the check travels with the document
// to the write.
func (t *docTx) ReadBack(check ReadBackCheck) bool {
	t.doc.readBack = check
	return true
}

// runReadBack takes d's read-back check, if any, and runs it with values
// read from the document read gives.
func runReadBack(d *document, read func() (*document, error)) error {
	check := d.readBack
	if check == nil {
		return nil
	}
	d.readBack = nil // d may be cached: it keeps no check
	var got *docTx
	return check(func(names []string) ([][]byte, error) {
		if got == nil {
			rd, err := read()
			if err != nil {
				return nil, fmt.Errorf("reading back the store as written: %w", err)
			}
			got = &docTx{doc: rd}
		}
		return got.Values(names)
	})
}

// verifyWritten runs the checks of the store file of size bytes written
// for d at name, before it replaces the store: with verify, that the
// caller's identities decrypt it (else an error wrapping
// ErrLastRecipient); then d's read-back check, if any, with values that
// scan the file (see scanWritten), each call anew, the first one while
// it fsyncs the file.
func (f *File) verifyWritten(name string, size int64, d *document, verify bool) error {
	check := d.readBack
	d.readBack = nil // d may be cached: it keeps no check
	if verify {
		if err := verifyFile(name, size, f.opts.Identities); err != nil {
			return fmt.Errorf("%w: %v", ErrLastRecipient, err)
		}
	}
	if check == nil {
		return nil
	}
	synced := false
	return check(func(names []string) ([][]byte, error) {
		for i, n := range names {
			if err := ValidateExistingName(n); err != nil {
				return make([][]byte, i), &KeyError{Op: "get", Name: n, Err: err}
			}
		}
		// The first call fsyncs the file while it reads it back: what it
		// reads is what the fsync makes durable (nothing else writes the
		// file), and on a disk the fsync of a big store takes about as
		// long as its read-back.
		sync := make(chan error, 1)
		if !synced {
			go func() { sync <- syncFile(name) }()
		} else {
			sync <- nil
		}
		vals, err := scanWritten(name, size, names, f.opts.Identities)
		if serr := <-sync; serr != nil && err == nil {
			vals, err = nil, serr
		}
		if err != nil {
			return nil, fmt.Errorf("reading back the store as written: %w", err)
		}
		synced = true
		return vals, nil
	})
}

// syncFile fsyncs the file at name.
func syncFile(name string) error {
	fh, err := os.Open(name)
	if err != nil {
		return err
	}
	defer fh.Close()
	return fh.Sync()
}

// scanPiece is the size of the buffers of a read-back, two of them: one
// being decrypted while the other is scanned. Each holds two of age's
// chunks, decrypted where they were read.
const scanPiece = 2 * encChunk

// scanWritten decrypts the store file at name, of size bytes, with ids,
// as a reader would (age authenticates every chunk, and the end of the
// file), and returns the values of names in it, in the order of names:
// nil for a name the file has no entry for. It never holds the plaintext
// whole: one goroutine decrypts it a piece at a time into one of two
// buffers while this one scans the other for the entries of names (see
// docScanner), keeping only their values. So a read-back costs one
// decryption of the file, beside a pass over its bytes, and builds no
// decoded document: the entries it is not asked about are skipped. An
// I/O error of the file is returned as it is; a decryption error wraps
// ErrDecrypt, and so does a plaintext that is not a document as hush
// writes it; one over MaxStoreSize wraps ErrLimit.
func scanWritten(name string, size int64, names []string, ids []age.Identity) ([][]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	src := &ioErrReaderAt{r: fh}
	read, err := openPlain(src, size, ids)
	if err != nil {
		if src.err != nil {
			return nil, src.err
		}
		return nil, err
	}
	type piece struct {
		b   []byte
		err error
	}
	pieces, free := make(chan piece, 1), make(chan []byte, 2)
	for range 2 {
		free <- make([]byte, min(size, scanPiece))
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer close(pieces)
		for {
			var b []byte
			select {
			case b = <-free:
			case <-stop:
				return
			}
			n, err := read(b)
			select {
			case pieces <- piece{b[:n], err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		<-done
	}()
	s := newDocScanner(names)
	var total int64
	for pc := range pieces {
		total += int64(len(pc.b))
		if total > MaxStoreSize {
			return nil, fmt.Errorf("%w: the store's plaintext is over %d bytes", ErrLimit, MaxStoreSize)
		}
		if err := s.feed(pc.b); err != nil {
			return nil, &DecryptError{Reason: err}
		}
		free <- pc.b[:cap(pc.b)]
		switch err := pc.err; {
		case err == io.EOF:
			if err := s.end(); err != nil {
				return nil, &DecryptError{Reason: err}
			}
			return s.vals, nil
		case err != nil && src.err != nil:
			return nil, src.err
		case err != nil:
			return nil, err
		}
	}
	panic("unreachable: the decrypting goroutine ends with an error or io.EOF")
}

// openPlain opens the store file src of size bytes with ids. It returns
// read, which fills a buffer with the plaintext that follows, as far as
// whole chunks of the payload fit in it (a buffer of scanPiece bytes, or
// of size bytes, always takes one), and returns io.EOF with the last of
// it, once the end of the file is authenticated. An armored file is
// streamed with age's reader. Errors are as decryptPlainAt's, and
// outcomes too: age checks the header, the payload's size and its last
// chunk, as it does for decryptPlainAt, before anything is read.
func openPlain(src io.ReaderAt, size int64, ids []age.Identity) (read func([]byte) (int, error), err error) {
	if len(ids) == 0 {
		return nil, &DecryptError{Reason: errors.New("no identity was given")}
	}
	head := make([]byte, min(size, int64(armorPeek)))
	if _, err := src.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	if isArmored(head) {
		pr, _, err := openPayload(io.NewSectionReader(src, 0, size), ids)
		if err != nil {
			return nil, err
		}
		return func(b []byte) (int, error) {
			n, err := fill(pr, b)
			if err != nil && err != io.EOF {
				err = &DecryptError{Reason: err, inPayload: true}
			}
			return n, err
		}, nil
	}
	// As decryptPlainAt: the header stage first, so that its failures
	// are told from the payload's.
	hdr, err := age.ExtractHeader(io.NewSectionReader(src, 0, size))
	if err != nil {
		return nil, &DecryptError{Reason: err}
	}
	key, err := age.DecryptHeader(hdr, ids...)
	if err != nil {
		return nil, &DecryptError{Reason: err}
	}
	defer clear(key)
	if size < int64(len(hdr))+nonceSize {
		return nil, &DecryptError{Reason: fmt.Errorf("failed to read nonce: %w", io.ErrUnexpectedEOF)}
	}
	// age checks the payload's size and authenticates its last chunk;
	// then each chunk is read into the caller's buffer and decrypted in
	// place, with no buffer of its own (age's ReaderAt allocates one a
	// call, and copies out of it).
	if _, _, err := age.DecryptReaderAt(src, size, age.NewInjectedFileKeyIdentity(key)); err != nil {
		return nil, &DecryptError{Reason: err, inPayload: true}
	}
	nonce := make([]byte, nonceSize)
	if _, err := src.ReadAt(nonce, int64(len(hdr))); err != nil {
		return nil, err
	}
	aead, err := payloadAEAD(key, nonce)
	if err != nil {
		return nil, &DecryptError{Reason: err, inPayload: true}
	}
	start := int64(len(hdr)) + nonceSize
	chunks := (size - start + encChunk - 1) / encChunk
	var next int64 // the chunk to read next
	return func(b []byte) (int, error) {
		n := 0
		for ; next < chunks; next++ {
			off := start + next*encChunk
			l := int(min(encChunk, size-off))
			if len(b)-n < l {
				break
			}
			ct := b[n : n+l]
			if _, err := src.ReadAt(ct, off); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return n, &DecryptError{Reason: err, inPayload: true}
			}
			var cn [chacha20poly1305.NonceSize]byte
			binary.BigEndian.PutUint64(cn[3:11], uint64(next))
			if next == chunks-1 {
				cn[11] = 1 // the last chunk
			}
			pt, err := aead.Open(ct[:0], cn[:], ct, nil)
			if err != nil {
				return n, &DecryptError{Reason: errors.New("failed to decrypt and authenticate payload chunk"), inPayload: true}
			}
			n += len(pt)
		}
		switch {
		case next == chunks:
			return n, io.EOF
		case n == 0:
			return 0, errors.New("store: a read-back buffer smaller than a chunk")
		}
		return n, nil
	}, nil
}

// encChunk is the size of a chunk of age's payload: 64 KiB of plaintext
// and its tag.
const encChunk = 64<<10 + chacha20poly1305.Overhead

// payloadAEAD returns the cipher of the payload of an age file whose file
// key is key and whose payload starts with nonce, as age derives it.
func payloadAEAD(key, nonce []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, key, nonce, "payload", chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	return chacha20poly1305.New(k)
}

// fill reads from r until buf is full or r fails; io.EOF is the end of
// r, as r returned it.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
