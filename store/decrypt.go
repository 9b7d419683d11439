package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"unsafe"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// read decrypts the whole file. On any error nothing read is kept.
func (f *File) read() (*document, error) {
	fh, err := openRegular(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &StoreError{Path: f.path, Err: ErrNoStore}
	}
	if err != nil {
		return nil, &StoreError{Path: f.path, Err: err}
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, &StoreError{Path: f.path, Err: err}
	}
	if err := f.checkPerm(fi); err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return nil, &StoreError{Path: f.path, Err: fmt.Errorf("%w (the file is empty)", ErrNoStore)}
	}
	// Decrypt straight from the file: the ciphertext is never held whole.
	// The descriptor pins this version of the file, whatever renames
	// happen meanwhile.
	src := &ioErrReader{r: io.LimitReader(fh, 2*MaxStoreSize)}
	d, armored, err := decryptDocumentFrom(src, fi.Size(), f.opts.Identities)
	if src.err != nil {
		err = src.err // a failed read is an I/O error, not a bad file
	}
	if err != nil {
		return nil, &StoreError{Path: f.path, Err: err}
	}
	f.mu.Lock()
	f.cached, f.cacheID, f.armored = d, idOf(fi), armored
	f.mu.Unlock()
	return d, nil
}

// ioErrReader remembers the first read error other than io.EOF.
type ioErrReader struct {
	r   io.Reader
	err error
}

func (e *ioErrReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

var armorHeader = []byte(armor.Header)

func isArmored(b []byte) bool { return bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), armorHeader) }

// decryptDocument decrypts and parses a whole store file. age releases
// plaintext before it authenticates later chunks, so everything is read to
// the end and discarded on any error.
func decryptDocument(ciphertext []byte, ids []age.Identity) (*document, bool, error) {
	return decryptDocumentFrom(bytes.NewReader(ciphertext), int64(len(ciphertext)), ids)
}

// decryptDocumentFrom is decryptDocument reading the store file from r,
// whose size is size, without holding the whole ciphertext in memory.
//
// Decryption and decoding overlap in a store of over overlapAbove bytes,
// given more than one CPU: one goroutine decrypts into a buffer that never
// moves while this one parses the part already decrypted, so a first read
// takes little longer than the decryption alone. The parser never reads
// past what has been published to it, and its result is used only after
// the whole file has authenticated; a decryption error always wins over a
// document error, whichever came first.
func decryptDocumentFrom(r io.Reader, size int64, ids []age.Identity) (*document, bool, error) {
	pr, armored, err := openPayload(r, ids)
	if err != nil {
		return nil, armored, err
	}
	// The plaintext is shorter than the file; one byte more detects a
	// payload over MaxStoreSize.
	buf := make([]byte, min(size, MaxStoreSize)+1)
	var d *document
	var rerr error
	if size <= overlapAbove || runtime.GOMAXPROCS(0) == 1 {
		// Nothing to overlap: another goroutine would only add the
		// time it takes to wake this one.
		var n int
		if n, rerr = readPayload(pr, buf, nil); rerr == nil {
			d, err = decodeDocument(buf[:n])
		}
	} else {
		filled := make(chan int, 8)
		go func() {
			defer close(filled)
			_, rerr = readPayload(pr, buf, filled) // written before filled is closed
		}()
		var plain string
		p := &parser{more: func() (string, bool) {
			n, ok := <-filled
			if ok {
				plain = unsafe.String(&buf[0], n)
			}
			return plain, ok
		}, sizeHint: len(buf)}
		d, err = p.document()
		for range filled { // wait for the end of the decryption
		}
	}
	if rerr != nil {
		clear(buf)
		return nil, armored, rerr
	}
	if err != nil {
		clear(buf)
		var de *DocumentError
		if errors.As(err, &de) {
			return nil, armored, &DecryptError{Reason: err}
		}
		return nil, armored, err
	}
	return d, armored, nil
}

// overlapAbove is the store size from which decoding overlaps
// decryption. Below it, handing each 64 KiB age chunk to another goroutine
// costs more than the overlap saves: on a 2-CPU VM, a first Get of a
// 1,000-entry store (171 KB) took 1.15x to 1.42x the floor read
// synchronously against 1.42x to 1.64x overlapped (docs/BENCHMARKS.md).
const overlapAbove = 1 << 20

// readPayload decrypts the payload pr into buf and returns its length.
// If filled is not nil, it publishes there the length decrypted so far
// after each read. The error wraps ErrDecrypt, or ErrLimit if the
// plaintext is too long.
func readPayload(pr io.Reader, buf []byte, filled chan<- int) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := pr.Read(buf[n:])
		n += m
		if m > 0 && filled != nil {
			filled <- n
		}
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

// decryptPlain is the decrypt stage of decryptDocument: it decrypts a
// whole age file (armored or not) and returns the plaintext only if every
// chunk authenticated to the end. On any error it returns no plaintext and
// an error wrapping ErrDecrypt.
func decryptPlain(ciphertext []byte, ids []age.Identity) (plain []byte, armored bool, err error) {
	return decryptPlainFrom(bytes.NewReader(ciphertext), int64(len(ciphertext)), ids)
}

// armorPeek is how far ahead decryptPlainFrom looks for the armor header:
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

func decryptPlainFrom(src io.Reader, size int64, ids []age.Identity) (plain []byte, armored bool, err error) {
	pr, armored, err := openPayload(src, ids)
	if err != nil {
		return nil, armored, err
	}
	// The plaintext is a little shorter than the ciphertext: read it into
	// one buffer of that size rather than growing one from 512 bytes.
	buf := bytes.NewBuffer(make([]byte, 0, min(size, MaxStoreSize)+bytes.MinRead))
	_, err = buf.ReadFrom(io.LimitReader(pr, MaxStoreSize+1))
	plain = buf.Bytes()
	if err != nil {
		clear(plain[:cap(plain)])
		return nil, armored, &DecryptError{Reason: err, inPayload: true}
	}
	return plain, armored, nil
}
