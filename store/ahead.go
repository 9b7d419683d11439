package store

import (
	"io"
	"sync"
)

// aheadWriter buffers what is written to it and passes it on to w in a
// goroutine of its own, so that hashing the store file and the write
// system calls (firstErr over the pending file) overlap the encoding and
// encryption of what comes next: a write's wall time is then about the
// longer of the two, not their sum. It holds two buffers of size bytes:
// Write fills one while the goroutine writes the other. It passes on
// ciphertext only, never plaintext.
//
// close must be called once, on every path: it writes what is buffered,
// waits for the goroutine and returns w's first error. After an error of
// w, Write returns it and nothing more is passed on.
type aheadWriter struct {
	w    io.Writer
	cur  []byte      // the buffer Write fills; nil: take a free one
	full chan []byte // buffers to pass on, in order
	free chan []byte // buffers passed on
	done chan struct{}

	mu  sync.Mutex
	err error // w's first error
}

func newAheadWriter(w io.Writer, size int) *aheadWriter {
	a := &aheadWriter{w: w, full: make(chan []byte, 1), free: make(chan []byte, 2), done: make(chan struct{})}
	a.free <- make([]byte, 0, size)
	a.free <- make([]byte, 0, size)
	go a.run()
	return a
}

func (a *aheadWriter) run() {
	defer close(a.done)
	for b := range a.full {
		if a.failed() == nil {
			if _, err := a.w.Write(b); err != nil {
				a.mu.Lock()
				a.err = err
				a.mu.Unlock()
			}
		}
		a.free <- b[:0]
	}
}

func (a *aheadWriter) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

func (a *aheadWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if err := a.failed(); err != nil {
			return n - len(p), err
		}
		if a.cur == nil {
			a.cur = <-a.free
		}
		k := min(len(p), cap(a.cur)-len(a.cur))
		a.cur = append(a.cur, p[:k]...)
		p = p[k:]
		if len(a.cur) == cap(a.cur) {
			a.full <- a.cur
			a.cur = nil
		}
	}
	return n, nil
}

// close passes on what is buffered, waits until w has had everything,
// and returns w's first error.
func (a *aheadWriter) close() error {
	if len(a.cur) > 0 {
		a.full <- a.cur
	}
	a.cur = nil
	close(a.full)
	<-a.done
	return a.err
}
