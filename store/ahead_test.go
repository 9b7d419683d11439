package store

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// failAfter passes n bytes on to w, then fails one write (and would
// take any after it).
type failAfter struct {
	w      bytes.Buffer
	n      int
	err    error
	failed bool
}

func (f *failAfter) Write(p []byte) (int, error) {
	if !f.failed && f.w.Len()+len(p) > f.n {
		f.failed = true
		return 0, f.err
	}
	return f.w.Write(p)
}

// aheadWriter passes every byte on, in order, through writes of any size
// and a last partial buffer; an error of the writer underneath is
// returned by a later Write or by close, and nothing is passed on after.
func TestAheadWriter(t *testing.T) {
	src := make([]byte, 1<<20+12345)
	for i := range src {
		src[i] = byte(i * 7)
	}
	var out bytes.Buffer
	a := newAheadWriter(&out, 4096)
	for p, k := src, 1; len(p) > 0; k = (k*3 + 1) % 9973 {
		n := min(k%9000+1, len(p))
		if _, err := a.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := a.close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), src) {
		t.Fatalf("passed on %d bytes, not the %d written in order", out.Len(), len(src))
	}

	boom := errors.New("boom")
	f := &failAfter{n: 3 * 4096, err: boom}
	a = newAheadWriter(f, 4096)
	var werr error
	for range 64 {
		if _, werr = a.Write(make([]byte, 1000)); werr != nil {
			break
		}
	}
	if err := a.close(); !errors.Is(err, boom) {
		t.Fatalf("close after a failed write = %v, want the writer's error", err)
	}
	if werr != nil && !errors.Is(werr, boom) {
		t.Fatalf("Write after a failed write = %v, want the writer's error", werr)
	}
	if f.w.Len() != 3*4096 {
		t.Fatalf("passed on %d bytes, want the %d before the failure", f.w.Len(), 3*4096)
	}
	var _ io.Writer = a
}
