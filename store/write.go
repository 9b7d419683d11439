package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/store/internal/lock"
)

// commit implements docStore: lock, read fresh, change, write, unlock.
func (f *File) commit(ctx context.Context, fn func(*document) (bool, error)) error {
	return f.locked(ctx, func() error {
		cur, err := f.load(ctx)
		if err != nil {
			return err
		}
		if err := f.writable(cur); err != nil {
			return err
		}
		d := cur.clone()
		changed, err := fn(d)
		if err != nil || !changed {
			return err
		}
		return f.write(d, false)
	})
}

// locked runs fn holding the store's lock, bounded by LockTimeout and by
// ctx. A wait that ends at either deadline gives an error wrapping
// ErrLockTimeout; a cancelled ctx gives one wrapping context.Canceled.
func (f *File) locked(ctx context.Context, fn func() error) error {
	timeout := f.opts.LockTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	lctx, cancel := context.WithTimeout(ctx, f.opts.LockTimeout)
	defer cancel()
	l, err := lock.Acquire(lctx, f.LockPath())
	if err != nil {
		switch {
		case errors.Is(err, context.Canceled):
			return &StoreError{Path: f.path, Err: fmt.Errorf("waiting for the store lock: %w", context.Canceled)}
		case errors.Is(err, lock.ErrTimeout):
			return &StoreError{Path: f.path, Err: fmt.Errorf("%w (after %v)", ErrLockTimeout, timeout.Round(time.Millisecond))}
		}
		return &StoreError{Path: f.path, Err: err}
	}
	defer l.Unlock()
	return fn()
}

// write encrypts d to its recipients and atomically replaces the store.
// With verify, it first checks that the caller's identities can decrypt
// the result and refuses with ErrLastRecipient otherwise.
//
// The plaintext is never held whole: it is encoded as it is encrypted,
// into the temp file that then replaces the store (see encryptTo).
func (f *File) write(d *document, verify bool) error {
	d.ensureKey()
	if err := f.checkPlugins(d); err != nil {
		return err
	}
	rs, err := f.parseRecipients(d.Recipients)
	if err != nil {
		return err
	}
	removeStrays(f.path)
	var prev time.Time // the replaced store's modification time
	if fi, err := os.Stat(f.path); err == nil {
		prev = fi.ModTime()
	}
	p, err := atomicfile.NewPendingFile(f.path, 0o600)
	if err != nil {
		return err
	}
	defer p.Cleanup()
	size, digest, err := f.encryptTo(p, d, rs)
	if err != nil {
		return err
	}
	d.digest = digest
	if err := f.verifyWritten(p.Name(), size, d, verify); err != nil {
		return err
	}
	if err := laterThan(p.Name(), prev); err != nil {
		return &atomicfile.Error{Step: atomicfile.StepWrite, Path: f.path, Err: err}
	}
	if err := p.CloseAtomicallyReplace(); err != nil {
		if errors.Is(err, atomicfile.ErrNotDurable) {
			// The rename happened: forget the cache, the file changed.
			f.mu.Lock()
			f.cached = nil
			f.mu.Unlock()
		}
		return err
	}
	fi, err := os.Stat(f.path)
	f.mu.Lock()
	if err != nil {
		f.cached = nil
	} else {
		f.cached, f.cacheID, d.fileID = d, idOf(fi), idOf(fi)
	}
	f.mu.Unlock()
	// The store is written: what this client wrote is what it accepts.
	return f.acceptWritten(d)
}

// fileBuffer is the buffer between age (or its armor) and the store file:
// a few of age's 64 KiB chunks, and many armor lines, a write.
const fileBuffer = 256 << 10

// encryptTo encrypts d to rs, armored if f.armored, and writes the store
// file to w, through a buffer; it returns the file's size and SHA-256
// digest (the integrity state's record of this version). The plaintext
// streams from the encoder into age's writer: no copy of the whole
// document is made. An error of w is returned as it is (an
// *atomicfile.Error for a pending file); a plaintext over MaxStoreSize is
// an error wrapping ErrLimit, after which w holds part of a file. A big
// document (see pipelineMin) goes through encryptPipelined instead, with
// the same results.
func (f *File) encryptTo(w io.Writer, d *document, rs []age.Recipient) (int64, [sha256.Size]byte, error) {
	f.mu.Lock()
	armored := f.armored
	f.mu.Unlock()
	if d.sizeHint() >= pipelineMin {
		return encryptPipelined(w, d, rs, armored)
	}
	return encryptSequential(w, d, rs, armored)
}

// encryptSequential is encryptTo in the caller's goroutine alone.
func encryptSequential(w io.Writer, d *document, rs []age.Recipient, armored bool) (int64, [sha256.Size]byte, error) {
	fw := &firstErr{w: w, h: sha256.New()}
	bw := bufio.NewWriterSize(fw, fileBuffer)
	var digest [sha256.Size]byte
	out := io.Writer(bw)
	var aw io.WriteCloser
	if armored {
		aw = armor.NewWriter(bw)
		out = aw
	}
	fail := func(err error) (int64, [sha256.Size]byte, error) {
		if fw.err != nil {
			return 0, digest, fw.err
		}
		return 0, digest, fmt.Errorf("encrypting the store: %w", err)
	}
	ew, err := age.Encrypt(out, rs...)
	if err != nil {
		return fail(err)
	}
	c := &capped{w: ew}
	if _, err := d.encodeTo(c); err != nil {
		return fail(err)
	}
	if err := c.check(); err != nil {
		return 0, digest, err
	}
	if err := ew.Close(); err != nil {
		return fail(err)
	}
	if aw != nil {
		if err := aw.Close(); err != nil {
			return fail(err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	fw.h.Sum(digest[:0])
	return fw.n, digest, nil
}

// firstErr counts and hashes the bytes written to w and keeps its first
// error.
type firstErr struct {
	w   io.Writer
	h   hash.Hash
	n   int64
	err error
}

func (e *firstErr) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	e.n += int64(n)
	e.h.Write(p[:n])
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// verifyFile checks that ids decrypt the store file of size bytes at
// name, as a reader would.
func verifyFile(name string, size int64, ids []age.Identity) error {
	fh, err := os.Open(name)
	if err != nil {
		return err
	}
	defer fh.Close()
	_, _, err = decryptDocumentAt(fh, size, ids)
	return err
}

// removeStrays deletes the temp files that writers killed in mid-write
// left beside the store. It runs under the store's lock, when no live
// writer has a temp file, so every one it finds is a stray. Failures are
// ignored: a stray is clutter (its content is encrypted), not a risk.
func removeStrays(path string) {
	path = writePath(path) // the temp files are beside a link's target
	dir := filepath.Dir(path)
	des, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range des {
		if atomicfile.IsTemp(path, de.Name()) {
			os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}

// laterThan gives the temp file at name a modification time after prev,
// if it does not have one: within one tick of a coarse file-system clock,
// or after the clock stepped back, the new store could otherwise show the
// same inode (numbers are reused), size and times as an earlier version,
// and a cache keyed on them would serve that version. Where the file
// system keeps whole seconds, the time moves to the next second.
func laterThan(name string, prev time.Time) error {
	if prev.IsZero() {
		return nil
	}
	for _, next := range []time.Time{prev.Add(time.Nanosecond), prev.Truncate(time.Second).Add(time.Second)} {
		fi, err := os.Stat(name)
		if err != nil {
			return err
		}
		if fi.ModTime().After(prev) {
			return nil
		}
		if err := os.Chtimes(name, time.Time{}, next); err != nil {
			return err
		}
	}
	return nil
}

func (f *File) parseRecipients(ss []string) ([]age.Recipient, error) {
	var rs []age.Recipient
	for _, s := range ss {
		if s == PassphraseRecipient {
			if len(ss) != 1 {
				return nil, errors.New("a passphrase store has exactly one recipient")
			}
			if f.opts.Passphrase == "" {
				return nil, &DecryptError{Reason: errors.New("a passphrase is needed to write this store")}
			}
			r, err := age.NewScryptRecipient(f.opts.Passphrase)
			if err != nil {
				return nil, err
			}
			if f.opts.scryptWorkFactor > 0 {
				r.SetWorkFactor(f.opts.scryptWorkFactor)
			}
			return []age.Recipient{r}, nil
		}
		r, err := ParseRecipient(s, f.opts.PluginUI)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}
