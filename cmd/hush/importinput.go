package main

import (
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/internal/inputfile"
)

// importInput is what an import reads: a file mapped into memory, or
// bytes read (standard input, a pipe given as a file name).
type importInput struct {
	data    []byte
	mapped  bool   // data are the file's pages, read-only: never written
	release func() // unmaps, or clears, data
}

// readImport reads the input of an import of name ("-": standard input),
// of at most limit bytes, as readInput does; a regular file is mapped
// (see inputfile.Map), which spares the copy of an input of megabytes.
func (a *app) readImport(name string, limit int64) (*importInput, error) {
	if name != "-" {
		data, release, err := inputfile.Map(name, limit)
		if err == nil {
			return &importInput{data: data, mapped: len(data) > 0, release: release}, nil
		}
		if !errors.Is(err, inputfile.ErrNotRegular) || !a.isStdin(name) {
			return nil, err
		}
	}
	data, err := a.readInput(name, limit)
	if err != nil {
		return nil, err
	}
	return &importInput{data: data, release: func() { clear(data) }}, nil
}

// clearSecrets zeroes the values of secrets parsed from in that are not
// part of in's data: the copies made of quoted values with escapes. A
// mapped input's own bytes are released, not written.
func (in *importInput) clearSecrets(secrets []formats.Secret) {
	in.clear(len(secrets), func(i int) *[]byte { return &secrets[i].Value })
}

// clearValues is clearSecrets of values.
func (in *importInput) clearValues(values [][]byte) {
	in.clear(len(values), func(i int) *[]byte { return &values[i] })
}

// clear zeroes the n values that value points to, but those in in's
// data if in is mapped.
func (in *importInput) clear(n int, value func(i int) *[]byte) {
	if !in.mapped {
		for i := range n {
			clear(*value(i))
		}
		return
	}
	// Where each value is, through a pointer to it: a slice made an
	// interface would be copied to the heap, a value at a time.
	lo := reflect.ValueOf(&in.data).Elem().Pointer()
	hi := lo + uintptr(len(in.data))
	for i := range n {
		v := value(i)
		if p := reflect.ValueOf(v).Elem().Pointer(); len(*v) > 0 && (p < lo || p >= hi) {
			clear(*v)
		}
	}
}

// errInputChanged is the error of an import whose mapped input was cut
// short while it was read.
var errInputChanged = errors.New("the file changed while it was read (cut short): nothing was imported")

// guard runs fn, which reads in's data. A mapped file cut short by
// another process meanwhile faults when read past its new end: that is
// errInputChanged, not the end of the process. Any other panic goes on.
func (in *importInput) guard(fn func() error) (err error) {
	if !in.mapped {
		return fn()
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(interface{ Addr() uintptr }); !ok {
				panic(r)
			}
			err = fmt.Errorf("reading the input: %w", errInputChanged)
		}
	}()
	return fn()
}
