package format

import (
	"bytes"
	"errors"
	"io"
)

// EncoderBuffer is how much of a document an [Encoder] holds before it
// writes: one chunk of age's payload, so that each write fills a chunk.
const EncoderBuffer = 64 << 10

// ErrOrder is the error of an [Encoder] given an entry whose name is not
// after the previous one's: the document it writes would not be the one
// Encode writes.
var ErrOrder = errors.New("entries not in strictly increasing name order")

// An Encoder writes a document, byte for byte as [EncodeWith] returns it,
// to an io.Writer, one entry at a time, holding about [EncoderBuffer]
// bytes of it: a writer never needs the whole document in memory. The
// caller gives the entries sorted by name, as records ([Encoder.Record])
// or as entries of a decoded document ([Encoder.Entry]), which are copied
// from its plaintext as they are when they are in the form the encoder
// writes, and encoded again otherwise.
//
// The first error (of the writer, or [ErrOrder]) stops the encoder; Close
// returns it.
type Encoder struct {
	w    io.Writer
	b    []byte
	n    int64 // bytes written to w
	err  error
	any  bool   // an entry was written
	last []byte // the name of the last entry
	name []byte // scratch: a record's name
	stamps
}

// NewEncoder returns an Encoder of a document of version and recipients,
// writing to w.
func NewEncoder(w io.Writer, version int, recipients []string) *Encoder {
	e := &Encoder{w: w, b: make([]byte, 0, EncoderBuffer+4<<10)}
	e.b = appendHead(e.b, version, recipients)
	return e
}

// Record adds the entry r.
func (e *Encoder) Record(r *Record) {
	e.name = append(e.name[:0], r.Name...)
	if !e.next(e.name) {
		return
	}
	e.b = appendRecord(e.b, r, &e.stamps)
	e.flush(false)
}

// Entry adds entry i of d: the bytes of d's plaintext if they are what the
// encoder would write for it (see raw), else its record encoded.
func (e *Encoder) Entry(d *Document, i int) {
	en := &d.Entries[i]
	if !e.next(d.Bytes(en.Name)) {
		return
	}
	if r, ok := d.raw(en); ok {
		e.b = append(e.b, r...)
	} else {
		e.b = appendRecord(e.b, d.Record(en), &e.stamps)
	}
	e.flush(false)
}

// next checks that name comes after the last entry's and writes the comma
// between two entries. It reports whether to go on.
func (e *Encoder) next(name []byte) bool {
	if e.err != nil {
		return false
	}
	if e.any {
		if bytes.Compare(name, e.last) <= 0 {
			e.err = ErrOrder
			return false
		}
		e.b = append(e.b, ',')
	}
	e.any = true
	e.last = append(e.last[:0], name...)
	return true
}

// flush writes the buffer once it holds EncoderBuffer bytes, or all of it.
func (e *Encoder) flush(all bool) {
	for e.err == nil && (len(e.b) >= EncoderBuffer || all && len(e.b) > 0) {
		k := min(len(e.b), EncoderBuffer)
		m, err := e.w.Write(e.b[:k])
		e.n += int64(m)
		if err == nil && m < k {
			err = io.ErrShortWrite
		}
		if err != nil {
			e.err = err
			return
		}
		e.b = e.b[:copy(e.b, e.b[k:])]
	}
}

// Close writes the end of the document, with the store key and rotation
// proofs of in (as EncodeWith), and returns the number of bytes written
// and the first error. It does not close the writer.
func (e *Encoder) Close(in Integrity) (int64, error) {
	if e.err == nil {
		e.b = append(e.b, '}')
		e.b = appendIntegrity(e.b, in)
		e.b = append(e.b, '}')
		e.flush(true)
	}
	clear(e.b[:cap(e.b)]) // it held values
	clear(e.last)
	return e.n, e.err
}

// Size is the length of the plaintext d was decoded from.
func (d *Document) Size() int { return len(d.plain) }

// Written is the number of bytes written so far.
func (e *Encoder) Written() int64 { return e.n }

// raw returns the bytes of en in the plaintext, "NAME":{...}, if they are
// exactly what the encoder writes for it, which is so for every entry
// hush wrote. They are then valid as they stand: Decode checked every
// string and timestamp in them. The check is of form only: each string
// must be in the plaintext as it is (no escape: the decoder copies those),
// the members in the encoder's order with nothing between them, the
// description absent when empty, and both timestamps present, in UTC,
// without trailing zeros in the fraction.
func (d *Document) raw(en *Entry) ([]byte, bool) {
	p := d.plain
	start := int(en.Name.off) - 1
	if en.Name.off&inCopy != 0 || start < 0 || p[start] != '"' {
		return nil, false
	}
	i := int(en.Name.off + en.Name.n)
	var ok bool
	if i, ok = lit(p, i, `":{"value":"`); !ok {
		return nil, false
	}
	if i, ok = at(p, i, en.Value); !ok {
		return nil, false
	}
	if en.Base64 {
		if i, ok = lit(p, i, `,"encoding":"base64"`); !ok {
			return nil, false
		}
	}
	if en.Description.n > 0 {
		if i, ok = lit(p, i, `,"description":"`); !ok {
			return nil, false
		}
		if i, ok = at(p, i, en.Description); !ok {
			return nil, false
		}
	}
	for _, m := range [2]struct {
		open string
		s    Span
	}{{`,"created":"`, en.Created}, {`,"updated":"`, en.Updated}} {
		if i, ok = lit(p, i, m.open); !ok || !canonicalStamp(d.Bytes(m.s)) {
			return nil, false
		}
		if i, ok = at(p, i, m.s); !ok {
			return nil, false
		}
	}
	if i, ok = lit(p, i, "}"); !ok {
		return nil, false
	}
	return p[start:i:i], true
}

// lit reports whether p holds s at i, and returns the index after it.
func lit(p []byte, i int, s string) (int, bool) {
	if len(p)-i < len(s) || string(p[i:i+len(s)]) != s {
		return 0, false
	}
	return i + len(s), true
}

// at reports whether the string s locates starts at p[i] (in the
// plaintext, so without escapes) and is followed by its closing quote,
// and returns the index after the quote.
func at(p []byte, i int, s Span) (int, bool) {
	if s.off&inCopy != 0 || int(s.off) != i {
		return 0, false
	}
	return lit(p, i+int(s.n), `"`)
}

// canonicalStamp reports whether s, a timestamp that Decode accepted, is
// what appendStamp writes for it: not empty (the zero time is written in
// full), and no trailing zero in the fraction (RFC3339Nano drops them).
// Decode keeps a timestamp in the plaintext only in the UTC form that
// validStamp checks; any other it rewrites into its copies.
func canonicalStamp(s []byte) bool {
	n := len(s)
	return n >= 20 && (n == 20 || s[n-2] != '0')
}
