package store

import (
	"crypto/sha256"
	"fmt"
	"io"
	"sync"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// A big store is written through a pipeline of two goroutines, so that on
// a machine with more than one CPU the write takes about as long as the
// longer of its two halves rather than their sum: the caller's encodes
// the document and encrypts it (age, and its armor), and a second hashes
// the store file and writes it, a buffer behind. The halves weigh about
// the same in a 100,000-entry store (encoding and age 16 ms, SHA-256 and
// the writes 11 ms). A third stage, encoding in one goroutine and
// encrypting in another, measured no faster on two CPUs, and it would
// copy the plaintext once more. A small store is written in the caller's
// goroutine alone (encryptTo): there the hand-overs cost more CPU than
// they save.

// pipelineMin is the size of plaintext (as sizeHint estimates it) from
// which a write goes through the pipeline.
const pipelineMin = 2 << 20

// entryHint is about what an entry of a typical store takes in the
// plaintext: its name, value and two timestamps, and the JSON around them.
const entryHint = 96

// stageBuffer is the size of each buffer the pipeline passes on: four of
// age's 64 KiB chunks, and many armor lines.
const stageBuffer = 256 << 10

// sizeHint estimates the size of d's plaintext, without encoding it: the
// plaintext its base was decoded from, and entryHint for every entry
// built since (a change, or an entry of a document never decoded).
func (d *document) sizeHint() int64 {
	b := d
	if d.base != nil {
		b = d.base
	}
	var n int64
	if b.decoded != nil {
		n = int64(b.decoded.Size())
	} else {
		n = int64(len(b.entries)) * entryHint
	}
	return n + int64(len(d.keys))*entryHint
}

// encryptPipelined is encryptTo (same arguments, results and errors)
// through the pipeline. Every goroutine it starts has ended when it
// returns, on every path.
func encryptPipelined(w io.Writer, d *document, rs []age.Recipient, armored bool) (int64, [sha256.Size]byte, error) {
	var digest [sha256.Size]byte
	fw := &firstErr{w: w, h: sha256.New()}
	file := newStage(fw, stageBuffer)
	// stop ends the file's goroutine and returns the first error: the
	// file's, else err (of the encoder or age).
	stop := func(err error) (int64, [sha256.Size]byte, error) {
		file.close()
		if fw.err != nil {
			return 0, digest, fw.err
		}
		return 0, digest, err
	}
	out := io.Writer(file)
	var aw io.WriteCloser
	if armored {
		aw = armor.NewWriter(file)
		out = aw
	}
	ew, err := age.Encrypt(out, rs...)
	if err != nil {
		return stop(fmt.Errorf("encrypting the store: %w", err))
	}
	c := &capped{w: ew}
	if _, err := d.encodeTo(c); err != nil {
		return stop(fmt.Errorf("encrypting the store: %w", err))
	}
	if err := c.check(); err != nil {
		return stop(err)
	}
	if err := ew.Close(); err != nil {
		return stop(fmt.Errorf("encrypting the store: %w", err))
	}
	if aw != nil {
		if err := aw.Close(); err != nil {
			return stop(fmt.Errorf("encrypting the store: %w", err))
		}
	}
	if err := file.close(); err != nil {
		return stop(fmt.Errorf("encrypting the store: %w", err))
	}
	fw.h.Sum(digest[:0])
	return fw.n, digest, nil
}

// A stage is a writer that passes what is written to it (ciphertext, in
// a write) on to w in a goroutine of its own, a buffer at a time: Write fills one buffer while
// the goroutine writes the other. After an error of w, Write returns it
// and nothing more is passed on. One goroutine at a time may call Write.
//
// close must be called on every path: it passes on what is buffered,
// waits for the goroutine to end and returns w's first error; a second
// close returns that error again.
type stage struct {
	w    io.Writer
	cur  []byte      // the buffer Write fills; nil: take a free one
	full chan []byte // buffers to pass on, in order
	free chan []byte // buffers passed on
	done chan struct{}
	shut bool // close was called

	mu  sync.Mutex
	err error // w's first error
}

func newStage(w io.Writer, size int) *stage {
	s := &stage{w: w, full: make(chan []byte, 2), free: make(chan []byte, 2), done: make(chan struct{})}
	s.free <- make([]byte, 0, size)
	s.free <- make([]byte, 0, size)
	go s.run()
	return s
}

func (s *stage) run() {
	defer close(s.done)
	for b := range s.full {
		if s.failed() == nil {
			if _, err := s.w.Write(b); err != nil {
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
			}
		}
		s.free <- b[:0]
	}
}

func (s *stage) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *stage) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if err := s.failed(); err != nil {
			return n - len(p), err
		}
		if s.cur == nil {
			s.cur = <-s.free
		}
		k := copy(s.cur[len(s.cur):cap(s.cur)], p)
		s.cur = s.cur[:len(s.cur)+k]
		p = p[k:]
		if len(s.cur) == cap(s.cur) {
			s.full <- s.cur
			s.cur = nil
		}
	}
	return n, nil
}

func (s *stage) close() error {
	if s.shut {
		return s.err
	}
	s.shut = true
	if len(s.cur) > 0 {
		s.full <- s.cur
	}
	s.cur = nil
	close(s.full)
	<-s.done
	return s.err
}
