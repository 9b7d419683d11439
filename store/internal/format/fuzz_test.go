package format

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode: every input is either refused with an *Error or is JSON
// that encoding/json reads the same way, and re-encodes to a fixed point
// (checkAccepted). It never panics. Seeds are the plaintexts of the
// fixture stores (the test fails without them), every test vector, and
// the corpus in testdata/fuzz/FuzzDecode.
//
// The fixture seeds are a few KiB, and go test minimizes every new
// interesting input for up to -fuzzminimizetime (default 60s), which
// stalls short runs: run it with -fuzzminimizetime 5s.
func FuzzDecode(f *testing.F) {
	for _, s := range fixturePlaintexts(f) {
		f.Add(s)
	}
	for _, v := range readVectors(f) {
		f.Add(v.doc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(bytes.Clone(b))
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || d != nil {
				t.Fatalf("Decode = %v, %T (%v); want only an *Error", d != nil, err, err)
			}
			return
		}
		checkAccepted(t, b, d)
	})
}
