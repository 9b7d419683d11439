package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/hush-secrets/hush/store/internal/format"
)

// docStore is what the file and memory providers share: a way to read the
// current document and to replace it under exclusion.
type docStore interface {
	// load returns the current document. The caller must not modify it.
	load(ctx context.Context) (*document, error)
	// commit runs fn on a private copy of the current document while
	// holding the store's exclusion, and stores the copy if fn returns nil
	// and reports a change.
	commit(ctx context.Context, fn func(d *document) (changed bool, err error)) error
	now() time.Time
}

// ops implements Provider, Updater, GetManyProvider, AllProvider,
// EachProvider, DeleteManyProvider and CleanupProvider for any docStore.
type ops struct{ s docStore }

var (
	_ GetManyProvider    = (*File)(nil)
	_ AllProvider        = (*File)(nil)
	_ EachProvider       = (*File)(nil)
	_ DeleteManyProvider = (*File)(nil)
	_ CleanupProvider    = (*File)(nil)
)

func (o ops) Get(ctx context.Context, name string) ([]byte, error) {
	if err := ValidateExistingName(name); err != nil {
		return nil, &KeyError{Op: "get", Name: name, Err: err}
	}
	d, err := o.s.load(ctx)
	if err != nil {
		return nil, &KeyError{Op: "get", Name: name, Err: err}
	}
	v, ok := d.value(name)
	if !ok {
		return nil, &KeyError{Op: "get", Name: name, Err: ErrNotFound}
	}
	return v, nil
}

// GetMany implements [GetManyProvider]: one load of the store, then a
// lookup per name. Each name is checked before the store is read, as Get
// checks it, so a refused name gives the same error wherever it is.
func (o ops) GetMany(ctx context.Context, names []string) ([][]byte, error) {
	var d *document
	return getAll(func(name string) ([]byte, error) {
		if err := ValidateExistingName(name); err != nil {
			return nil, &KeyError{Op: "get", Name: name, Err: err}
		}
		if d == nil {
			var err error
			if d, err = o.s.load(ctx); err != nil {
				return nil, &KeyError{Op: "get", Name: name, Err: err}
			}
		}
		v, ok := d.value(name)
		if !ok {
			return nil, &KeyError{Op: "get", Name: name, Err: ErrNotFound}
		}
		return v, nil
	}, names)
}

// All implements [AllProvider]: one load of the store and two walks of
// its entries, one to size and one to copy. The names are substrings of
// one string and the values slices of one array (a base64 value, decoded,
// has its own), so a thousand entries cost four allocations, not
// thousands: each page a process touches first is a page fault, which
// for hush exec on a big store costs more than its own work (issue 18).
func (o ops) All(ctx context.Context) ([]string, [][]byte, error) {
	d, err := o.s.load(ctx)
	if err != nil {
		return nil, nil, err
	}
	n, nameSize, valueSize := 0, 0, 0
	d.each(func(fd *format.Document, i int, e *docEntry) {
		n++
		if e != nil {
			nameSize += len(e.Name)
			if e.Encoding == "" {
				valueSize += len(e.Value)
			}
			return
		}
		fe := &fd.Entries[i]
		nameSize += fe.Name.Len()
		if !fe.Base64 {
			valueSize += fe.Value.Len()
		}
	})
	if n == 0 {
		return nil, nil, nil
	}
	// The strings and the array are made at their full size first, so
	// none moves, and each name or value cut from them stays valid.
	var all strings.Builder
	all.Grow(nameSize)
	names := make([]string, 0, n)
	values := make([][]byte, 0, n)
	buf := make([]byte, 0, valueSize)
	d.each(func(fd *format.Document, i int, e *docEntry) {
		from, at := all.Len(), len(buf)
		if e == nil {
			fe := &fd.Entries[i]
			all.Write(fd.Bytes(fe.Name))
			if fe.Base64 {
				values = append(values, fd.Value(fe))
			} else {
				buf = append(buf, fd.Bytes(fe.Value)...)
			}
		} else {
			all.WriteString(e.Name)
			if e.Encoding != "" {
				values = append(values, e.bytes())
			} else {
				buf = append(buf, e.Value...)
			}
		}
		if len(values) == len(names) { // a value in buf
			values = append(values, buf[at:len(buf):len(buf)])
		}
		names = append(names, all.String()[from:])
	})
	return names, values, nil
}

// EachProvider is a Provider that can lend each entry it lists, with its
// value, without copying either. [Each] uses the method when a Provider
// has it.
type EachProvider interface {
	Provider

	// Each calls fn with the name and value of each entry List returns, in
	// the same order, all from one version of the store, read once. Both
	// are lent: they are valid only until fn returns, and fn must not
	// modify them. Each stops at the first error fn returns and returns it
	// as it is. Its other errors are List's, returned before fn is called;
	// an empty view calls fn never and returns nil.
	Each(ctx context.Context, fn func(name, value []byte) error) error
}

// Each calls fn with the name and value of each entry p lists, in List's
// order, as [EachProvider] describes: through p's method when p has one;
// otherwise it reads them with [All] and lends them one by one (and clears
// the values after). It stops at fn's first error and returns it as it
// is.
func Each(ctx context.Context, p Provider, fn func(name, value []byte) error) error {
	if e, ok := p.(EachProvider); ok {
		return e.Each(ctx, fn)
	}
	names, values, err := All(ctx, p)
	if err != nil {
		return err
	}
	defer func() {
		for _, v := range values {
			clear(v)
		}
	}()
	for i, n := range names {
		if err := fn([]byte(n), values[i]); err != nil {
			return err
		}
	}
	return nil
}

// Each implements [EachProvider]: one load of the store and one walk of
// its entries. An entry of the document read lends its name and value
// where they lie in the plaintext (a base64 value is decoded, lent, then
// cleared); a changed entry, held as strings, lends a copy in a buffer
// reused for each. Nothing is allocated per entry: hush exec builds a
// thousand variables from these without a copy of the store between
// (issue 18).
func (o ops) Each(ctx context.Context, fn func(name, value []byte) error) error {
	d, err := o.s.load(ctx)
	if err != nil {
		return err
	}
	var fnErr error
	var name, value []byte // the copies lent for a changed entry
	d.each(func(fd *format.Document, i int, e *docEntry) {
		if fnErr != nil {
			return
		}
		var n, v []byte
		decoded := false
		if e == nil {
			fe := &fd.Entries[i]
			n = fd.Bytes(fe.Name)
			if decoded = fe.Base64; decoded {
				v = fd.Value(fe)
			} else {
				v = fd.Bytes(fe.Value)
			}
		} else {
			name = append(name[:0], e.Name...)
			n = name
			if decoded = e.Encoding != ""; decoded {
				v = e.bytes()
			} else {
				if cap(value) < len(e.Value) { // the old copy cleared, not left to the GC
					clear(value[:cap(value)])
					value = make([]byte, 0, len(e.Value))
				}
				value = append(value[:0], e.Value...)
				v = value[:len(value):len(value)]
			}
		}
		fnErr = fn(n[:len(n):len(n)], v)
		if decoded {
			clear(v)
		}
	})
	clear(value[:cap(value)])
	return fnErr
}

func (o ops) Set(ctx context.Context, name string, value []byte) error {
	if err := ValidateName(name); err != nil {
		return &KeyError{Op: "set", Name: name, Err: err}
	}
	if err := validateValue(value); err != nil {
		return &KeyError{Op: "set", Name: name, Err: err}
	}
	return o.Update(ctx, func(tx Tx) error { return tx.Set(name, value) }, "set", name)
}

func (o ops) Delete(ctx context.Context, name string) error {
	if err := ValidateExistingName(name); err != nil {
		return &KeyError{Op: "delete", Name: name, Err: err}
	}
	return o.Update(ctx, func(tx Tx) error { return tx.Delete(name) }, "delete", name)
}

func (o ops) List(ctx context.Context) ([]Entry, error) {
	d, err := o.s.load(ctx)
	if err != nil {
		return nil, err
	}
	return d.list(), nil
}

// DeleteMany implements [DeleteManyProvider]: one Update.
func (o ops) DeleteMany(ctx context.Context, names []string) error {
	return o.Update(ctx, func(tx Tx) error { return deleteAll(tx.Delete, names) }, "", "")
}

// Cleanup implements [CleanupProvider]: one Update.
func (o ops) Cleanup(ctx context.Context) error {
	return o.Update(ctx, func(tx Tx) error {
		es, err := tx.List()
		if err != nil {
			return err
		}
		return deleteAll(tx.Delete, entryNames(es))
	}, "", "")
}

// Update runs fn atomically. opName and key, when set, name the operation
// in errors that are not already KeyErrors (a lock timeout, a write error).
func (o ops) Update(ctx context.Context, fn func(Tx) error, op, key string) error {
	err := o.s.commit(ctx, func(d *document) (bool, error) {
		tx := &docTx{doc: d, now: o.s.now().UTC().Round(0)}
		if err := fn(tx); err != nil {
			return false, err
		}
		return tx.changed, nil
	})
	if err != nil && op != "" {
		var ke *KeyError
		if !errors.As(err, &ke) {
			return &KeyError{Op: op, Name: key, Err: err}
		}
	}
	return err
}

// Memory is an in-memory Provider with the same semantics as the file
// provider, for tests and for programs that want a throwaway store. The
// zero value is not usable; call NewMemory.
type Memory struct {
	ops
	m *memStore
}

var (
	_ Provider           = (*Memory)(nil)
	_ Updater            = (*Memory)(nil)
	_ GetManyProvider    = (*Memory)(nil)
	_ AllProvider        = (*Memory)(nil)
	_ EachProvider       = (*Memory)(nil)
	_ DeleteManyProvider = (*Memory)(nil)
	_ CleanupProvider    = (*Memory)(nil)
)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	m := &memStore{doc: newDocument(nil), sem: make(chan struct{}, 1)}
	return &Memory{ops: ops{s: m}, m: m}
}

// Update runs fn atomically; see [Updater].
func (m *Memory) Update(ctx context.Context, fn func(Tx) error) error {
	return m.ops.Update(ctx, fn, "", "")
}

// Writes reports how many times the store's contents were replaced.
func (m *Memory) Writes() int {
	m.m.sem <- struct{}{}
	defer func() { <-m.m.sem }()
	return m.m.writes
}

type memStore struct {
	sem    chan struct{} // held by a writer, and while reading doc
	doc    *document
	writes int
}

func (m *memStore) now() time.Time { return time.Now() }

func (m *memStore) load(ctx context.Context) (*document, error) {
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-m.sem }()
	return m.doc, nil
}

func (m *memStore) commit(ctx context.Context, fn func(*document) (bool, error)) error {
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return errors.Join(ErrLockTimeout, ctx.Err())
	}
	defer func() { <-m.sem }()
	d := m.doc.clone()
	changed, err := fn(d)
	if err != nil || !changed {
		return err
	}
	plain, err := d.marshal()
	if err != nil {
		return err
	}
	if err := runReadBack(d, func() (*document, error) { return decodeDocument(plain) }); err != nil {
		return err
	}
	m.doc = d
	m.writes++
	return nil
}
