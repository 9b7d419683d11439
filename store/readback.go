package store

import (
	"fmt"
	"os"
)

// ReadBackCheck checks what a batch wrote (see [ReadBackTx]). values
// returns the values of names in the store as written, in the order of
// names, as [TxValues] does in a Tx: nil for an absent name; its errors
// are TxValues', or, on the first call, the failure to read the written
// store back. The check must not retain values.
type ReadBackCheck func(values func(names []string) ([][]byte, error)) error

// ReadBackTx is a Tx whose batch can read back the store it writes
// before that replaces the store. [TxReadBack] uses the method when a Tx
// has it.
type ReadBackTx interface {
	Tx

	// ReadBack registers check, to run once the batch's changes are
	// written and before they replace the store, and reports whether it
	// will run. The file store encrypts the batch to a new file, fsyncs
	// it, and then runs check with values that decrypt that file (with
	// the caller's identities, on their first call) and look names up in
	// it: what check reads is the durable bytes about to replace the
	// store, not a copy in memory. The memory store runs check on its
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
// ErrLastRecipient); then d's read-back check, if any, against the file
// fsynced and decrypted. The file is decrypted at most once.
func (f *File) verifyWritten(name string, size int64, d *document, verify bool) error {
	if verify && d.readBack == nil {
		if err := verifyFile(name, size, f.opts.Identities); err != nil {
			return fmt.Errorf("%w: %v", ErrLastRecipient, err)
		}
		return nil
	}
	var (
		read    *document
		readErr error
		done    bool
	)
	readFile := func() (*document, error) {
		if !done {
			done = true
			read, readErr = readWritten(name, size, f)
		}
		return read, readErr
	}
	if verify {
		if _, err := readFile(); err != nil {
			d.readBack = nil
			return fmt.Errorf("%w: %v", ErrLastRecipient, err)
		}
	}
	return runReadBack(d, readFile)
}

// readWritten fsyncs the store file of size bytes at name and decrypts
// it with f's identities, as a reader would.
func readWritten(name string, size int64, f *File) (*document, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if err := fh.Sync(); err != nil {
		return nil, err
	}
	src := &ioErrReaderAt{r: fh}
	d, _, err := decryptDocumentAt(src, size, f.opts.Identities)
	if src.err != nil {
		return nil, src.err
	}
	return d, err
}
