package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"filippo.io/age"
	"filippo.io/age/armor"
	"filippo.io/age/plugin"

	"github.com/hush-secrets/hush/store/internal/atomicfile"
	"github.com/hush-secrets/hush/store/internal/lock"
)

// DefaultLockTimeout is how long a writer waits for the lock by default.
const DefaultLockTimeout = 10 * time.Second

// Options configure a file store.
type Options struct {
	// Identities decrypt the store. All are tried.
	Identities []age.Identity
	// Passphrase, if set, decrypts and re-encrypts a passphrase (scrypt)
	// store, whose recipient list is the single entry "scrypt".
	Passphrase string
	// LockTimeout bounds the wait for the write lock; zero means
	// DefaultLockTimeout. The context's deadline also applies.
	LockTimeout time.Duration
	// AllowInsecurePermissions opens a store that group or others can
	// read. HUSH_ALLOW_INSECURE_PERMS=1 in the environment does the same.
	AllowInsecurePermissions bool
	// Armor makes Create write an ASCII-armored store. An existing store
	// keeps the encoding it has.
	Armor bool
	// PluginUI is handed to age plugins for recipients stored in the
	// document. Nil means plugins may not interact with the user.
	PluginUI *plugin.ClientUI
	// Now is the clock for entry timestamps; nil means time.Now.
	Now func() time.Time

	fault            atomicfile.Fault // test seam for the write path
	scryptWorkFactor int              // test seam: cheaper scrypt for passphrase stores; 0 is age's default
}

// PassphraseRecipient is the recipient-list entry of a passphrase store.
const PassphraseRecipient = "scrypt"

// File is the age-encrypted file provider. It is safe for concurrent use
// by several goroutines and several processes.
type File struct {
	ops
	path string
	opts Options

	mu      sync.Mutex // guards the fields below
	cached  *document
	cacheID fileID
	armored bool
}

var (
	_ Provider = (*File)(nil)
	_ Updater  = (*File)(nil)
)

// fileID identifies one version of the store file. Every write replaces
// the inode, and inode numbers are reused, so size and times are part of it.
type fileID struct {
	dev, ino, size                 uint64
	mtimeS, mtimeN, ctimeS, ctimeN int64
}

func idOf(fi fs.FileInfo) fileID {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino, size: uint64(st.Size),
		mtimeS: st.Mtim.Sec, mtimeN: st.Mtim.Nsec, ctimeS: st.Ctim.Sec, ctimeN: st.Ctim.Nsec}
}

// Open opens the store at path. It returns an error wrapping ErrNoStore if
// the file is missing or empty, and ErrInsecurePermissions if group or
// others can read it. The file is decrypted on first use.
func Open(path string, opts Options) (*File, error) {
	f := newFile(path, opts)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Size() == 0) {
		return nil, &StoreError{Path: path, Err: ErrNoStore}
	}
	if err != nil {
		return nil, &StoreError{Path: path, Err: err}
	}
	if err := f.checkPerm(fi); err != nil {
		return nil, err
	}
	return f, nil
}

// Create makes a new, empty store at path encrypted to recipients, creating
// its directory 0700 and the file 0600. It refuses (ErrExists) to replace a
// store that exists and is not empty. The caller need not be able to
// decrypt the new store.
func Create(ctx context.Context, path string, recipients []string, opts Options) (*File, error) {
	f := newFile(path, opts)
	f.armored = opts.Armor
	rs, err := f.parseRecipients(recipients)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, &StoreError{Path: path, Err: errors.New("no recipients")}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, &StoreError{Path: path, Err: err}
	}
	err = f.locked(ctx, func() error {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return ErrExists
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return f.write(newDocument(append([]string(nil), recipients...)), false)
	})
	if err != nil {
		return nil, &StoreError{Path: path, Err: err}
	}
	return f, nil
}

func newFile(path string, opts Options) *File {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if os.Getenv("HUSH_ALLOW_INSECURE_PERMS") == "1" {
		opts.AllowInsecurePermissions = true
	}
	if opts.Passphrase != "" {
		if id, err := age.NewScryptIdentity(opts.Passphrase); err == nil {
			opts.Identities = append([]age.Identity{id}, opts.Identities...)
		}
	}
	f := &File{path: path, opts: opts}
	f.ops = ops{s: f}
	return f
}

// Path returns the store's path.
func (f *File) Path() string { return f.path }

// LockPath returns the path of the store's lock file.
func (f *File) LockPath() string { return f.path + ".lock" }

// Update runs fn atomically under the store's lock; see [Updater].
func (f *File) Update(ctx context.Context, fn func(Tx) error) error {
	return f.ops.Update(ctx, fn, "", "")
}

// StoreError reports a failure of the store as a whole, with its path.
type StoreError struct {
	Path string
	Err  error
}

func (e *StoreError) Error() string { return "store " + e.Path + ": " + e.Err.Error() }
func (e *StoreError) Unwrap() error { return e.Err }

func (f *File) now() time.Time {
	if f.opts.Now != nil {
		return f.opts.Now()
	}
	return time.Now()
}

// PermissionError reports a file that group or others may read.
type PermissionError struct {
	Path string
	Mode fs.FileMode
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%s is accessible by group or others (mode %04o)", e.Path, e.Mode.Perm())
}
func (e *PermissionError) Unwrap() error { return ErrInsecurePermissions }

// CheckPermissions refuses a file that group or others can access, as ssh
// refuses loose keys. The error wraps ErrInsecurePermissions.
func CheckPermissions(path string, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o077 != 0 {
		return &PermissionError{Path: path, Mode: fi.Mode()}
	}
	return nil
}

func (f *File) checkPerm(fi fs.FileInfo) error {
	if f.opts.AllowInsecurePermissions {
		return nil
	}
	return CheckPermissions(f.path, fi)
}

// load returns the current document, from the cache when the file is the
// one the cache was read from.
func (f *File) load(ctx context.Context) (*document, error) {
	fi, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &StoreError{Path: f.path, Err: ErrNoStore}
	}
	if err != nil {
		return nil, &StoreError{Path: f.path, Err: err}
	}
	if err := f.checkPerm(fi); err != nil {
		return nil, err
	}
	id := idOf(fi)
	f.mu.Lock()
	if f.cached != nil && id == f.cacheID && id != (fileID{}) {
		d := f.cached
		f.mu.Unlock()
		return d, nil
	}
	f.mu.Unlock()
	return f.read()
}

// read decrypts the whole file. On any error nothing read is kept.
func (f *File) read() (*document, error) {
	fh, err := os.Open(f.path)
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

// DecryptError wraps ErrDecrypt with age's reason. It never holds plaintext.
type DecryptError struct {
	Reason error

	inPayload bool // the header was good; the payload failed (tests check the stage)
}

func (e *DecryptError) Error() string {
	if e.Reason == nil {
		return ErrDecrypt.Error()
	}
	return ErrDecrypt.Error() + ": " + e.Reason.Error()
}
func (e *DecryptError) Unwrap() error { return ErrDecrypt }

// Cause returns age's underlying error, if any.
func (e *DecryptError) Cause() error { return e.Reason }

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

// commit implements docStore: lock, read fresh, change, write, unlock.
func (f *File) commit(ctx context.Context, fn func(*document) (bool, error)) error {
	return f.locked(ctx, func() error {
		cur, err := f.load(ctx)
		if err != nil {
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
func (f *File) write(d *document, verify bool) error {
	ciphertext, err := f.encrypt(d)
	if err != nil {
		return err
	}
	if verify {
		if _, _, err := decryptDocument(ciphertext, f.opts.Identities); err != nil {
			return fmt.Errorf("%w: %v", ErrLastRecipient, err)
		}
	}
	removeStrays(f.path)
	var prev time.Time // the replaced store's modification time
	if fi, err := os.Stat(f.path); err == nil {
		prev = fi.ModTime()
	}
	err = atomicfile.Write(f.path, 0o600, f.opts.fault, func(w io.Writer) error {
		if _, err := w.Write(ciphertext); err != nil {
			return err
		}
		return laterThan(w, prev)
	})
	if err != nil {
		var ae *atomicfile.Error
		if errors.As(err, &ae) && ae.Step != atomicfile.StepDirSync {
			return err
		}
		// The rename happened: forget the cache, the file changed.
		f.mu.Lock()
		f.cached = nil
		f.mu.Unlock()
		return err
	}
	fi, err := os.Stat(f.path)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.cached = nil
		return nil
	}
	f.cached, f.cacheID = d, idOf(fi)
	return nil
}

// removeStrays deletes the temp files that writers killed in mid-write
// left beside the store. It runs under the store's lock, when no live
// writer has a temp file, so every one it finds is a stray. Failures are
// ignored: a stray is clutter (its content is encrypted), not a risk.
func removeStrays(path string) {
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

// laterThan gives the temp file w a modification time after prev, if it
// does not have one: within one tick of a coarse file-system clock, or
// after the clock stepped back, the new store could otherwise show the
// same inode (numbers are reused), size and times as an earlier version,
// and a cache keyed on them would serve that version. Where the file
// system keeps whole seconds, the time moves to the next second.
func laterThan(w io.Writer, prev time.Time) error {
	tf, ok := w.(*os.File)
	if !ok || prev.IsZero() {
		return nil
	}
	for _, next := range []time.Time{prev.Add(time.Nanosecond), prev.Truncate(time.Second).Add(time.Second)} {
		fi, err := tf.Stat()
		if err != nil {
			return err
		}
		if fi.ModTime().After(prev) {
			return nil
		}
		if err := os.Chtimes(tf.Name(), time.Time{}, next); err != nil {
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
