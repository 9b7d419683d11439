package format

import (
	"bytes"
	"fmt"
	"slices"
	"time"
)

// Decode decodes and checks a whole plaintext. On success the document
// refers to plain, which must not change while it is in use. Any defect
// refuses the whole document with an *Error.
//
// Most of the entries of a document hush wrote take a fast path (see
// plainEntry) that checks the exact form hush writes; anything else is
// parsed token by token.
func Decode(plain []byte) (*Document, error) {
	if len(plain) > inCopy {
		return nil, &Error{Reason: "document too large"}
	}
	p := &parser{b: plain}
	if p.atEnd() {
		return nil, &Error{Reason: "empty document"}
	}
	d := &Document{Version: -1, plain: plain}
	var top seen
	unsorted := false
	err := p.object(func(k []byte) error {
		switch string(k) {
		case "version":
			if err := top.see(p, 1, k); err != nil {
				return err
			}
			v, err := p.version()
			d.Version = v
			return err
		case "recipients":
			if err := top.see(p, 2, k); err != nil {
				return err
			}
			return p.recipients(d)
		case "entries":
			if err := top.see(p, 4, k); err != nil {
				return err
			}
			if p.literal("null") {
				return nil
			}
			return p.entries(d, &unsorted)
		case "store_key":
			if err := top.see(p, 8, k); err != nil {
				return err
			}
			return p.storeKey(d)
		case "rotations":
			if err := top.see(p, 16, k); err != nil {
				return err
			}
			return p.rotations(d)
		}
		return p.fail("unknown field " + quote(k))
	})
	if err != nil {
		return nil, err
	}
	if !p.atEnd() {
		return nil, p.fail("trailing data after the document")
	}
	switch {
	case len(d.Rotations) > 0 && d.StoreKey == nil:
		return nil, &Error{Reason: "rotation proofs without a store key"}
	case d.Version < 1:
		return nil, &Error{Reason: "missing or invalid format version"}
	case d.Version > Version:
		return nil, &Error{Reason: fmt.Sprintf("format version %d is newer than this hush understands (%d); upgrade hush", d.Version, Version)}
	}
	d.copies = p.copies
	// hush writes entries sorted; a document edited by hand may not be.
	if unsorted {
		slices.SortStableFunc(d.Entries, func(a, b Entry) int { return bytes.Compare(d.Bytes(a.Name), d.Bytes(b.Name)) })
		for i := 1; i < len(d.Entries); i++ {
			if name := d.Bytes(d.Entries[i].Name); bytes.Equal(name, d.Bytes(d.Entries[i-1].Name)) {
				return nil, &Error{Reason: "duplicate entry " + quote(name)}
			}
		}
	}
	d.Entries = slices.Clip(d.Entries)
	return d, nil
}

// recipients parses the recipient list: an array of strings, or null.
func (p *parser) recipients(d *Document) error {
	if p.literal("null") {
		return nil
	}
	if err := p.expect('['); err != nil {
		return err
	}
	return p.items(']', func() error {
		r, err := p.str()
		if err != nil {
			return err
		}
		d.Recipients = append(d.Recipients, string(p.bytes(r)))
		return nil
	})
}

// sampleEntries is how many entries the index starts with room for. Once
// they are parsed, their average size (they are most often alike) sizes
// the index for the rest of the plaintext: one copy of a small slice, where
// a guess made before seeing an entry would either grow the index a few
// times (each a copy of it) or reserve far more than it needs.
const sampleEntries = 64

// entries parses the entries object into d.Entries, checking each entry
// as it comes. It sets unsorted if the names are out of order.
func (p *parser) entries(d *Document, unsorted *bool) error {
	if err := p.expect('{'); err != nil {
		return err
	}
	start := p.i
	var prev, stamp []byte // the last name, and the last timestamp found valid
	return p.items('}', func() error {
		var e Entry
		if !p.plainEntry(&e, &stamp) {
			if err := p.entry(&e, &stamp); err != nil {
				return err
			}
		}
		name := p.bytes(e.Name)
		switch n := len(d.Entries); {
		case d.Entries == nil:
			d.Entries = make([]Entry, 0, sampleEntries)
		case n == sampleEntries:
			// The rest at the sample's average size, and an eighth more.
			avg := max((p.i-start)/n, 1)
			if more := (len(p.b)-p.i)/avg + (len(p.b)-p.i)/avg/8 + 1; more > cap(d.Entries)-n {
				d.Entries = append(make([]Entry, 0, n+more), d.Entries...)
			}
		}
		if len(d.Entries) > 0 {
			if c := bytes.Compare(name, prev); c == 0 {
				return &Error{Reason: "duplicate entry " + quote(name)}
			} else if c < 0 {
				*unsorted = true
			}
		}
		prev = name
		d.Entries = append(d.Entries, e)
		return nil
	})
}

// Bits of the members of an entry, for seen.
const (
	hasValue = 1 << iota
	hasEncoding
	hasDescription
	hasCreated
	hasUpdated
)

// entry parses a name and an entry object in any form, and checks it.
func (p *parser) entry(e *Entry, stamp *[]byte) error {
	name, err := p.str()
	if err != nil {
		return err
	}
	e.Name = name
	if err := p.expect(':'); err != nil {
		return err
	}
	if err := p.expect('{'); err != nil {
		return err
	}
	var has seen
	var encoding Span
	for first := true; ; first = false {
		if first && p.peek() == '}' {
			break
		}
		f, err := p.str()
		if err != nil {
			return err
		}
		k := p.bytes(f)
		bit, to := entryField(k, e, &encoding)
		if bit == 0 {
			return p.fail("unknown entry field " + quote(k))
		}
		if err := has.see(p, bit, k); err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		if *to, err = p.str(); err != nil {
			return err
		}
		if p.peek() == ',' {
			p.i++
			continue
		}
		break
	}
	if err := p.expect('}'); err != nil {
		return err
	}
	if has&hasValue == 0 {
		return p.fail("entry has no value")
	}
	return p.check(e, encoding, stamp)
}

// entryField returns the bit of the entry member named k, and where its
// value goes; bit 0 for a member that does not exist.
func entryField(k []byte, e *Entry, encoding *Span) (uint8, *Span) {
	switch string(k) {
	case "value":
		return hasValue, &e.Value
	case "encoding":
		return hasEncoding, encoding
	case "description":
		return hasDescription, &e.Description
	case "created":
		return hasCreated, &e.Created
	case "updated":
		return hasUpdated, &e.Updated
	}
	return 0, nil
}

// check validates a parsed entry's name, encoding and timestamps,
// rewriting a timestamp with an offset into the UTC form hush writes.
// stamp is the last timestamp found valid: entries written together share
// theirs, which then need no second look.
func (p *parser) check(e *Entry, encoding Span, stamp *[]byte) error {
	name := p.bytes(e.Name)
	if !ValidName(name) {
		return &Error{Reason: "invalid entry name " + quote(name)}
	}
	switch string(p.bytes(encoding)) {
	case "":
	case Base64:
		if !validBase64(p.bytes(e.Value)) {
			return &Error{Reason: "bad base64 value for " + quote(name)}
		}
		e.Base64 = true
	default:
		return &Error{Reason: "unknown value encoding for " + quote(name)}
	}
	for _, ts := range [2]*Span{&e.Created, &e.Updated} {
		s := p.bytes(*ts)
		if len(s) == 0 || bytes.Equal(s, *stamp) {
			continue
		}
		if validStamp(s) {
			*stamp = s
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, string(s))
		if err != nil {
			return &Error{Reason: "bad timestamp for " + quote(name)}
		}
		off := len(p.copies)
		p.copies = appendStamp(p.copies, t)
		*ts = Span{off: uint32(off) | inCopy, n: uint32(len(p.copies) - off)}
		if !validStamp(p.bytes(*ts)) { // 9999-12-31T23:30:00-01:00 is in year 10000 in UTC
			return &Error{Reason: "timestamp out of range for " + quote(name)}
		}
	}
	return nil
}

// seen refuses a second occurrence of one of a fixed set of members.
type seen uint8

func (s *seen) see(p *parser, bit uint8, k []byte) error {
	if *s&seen(bit) != 0 {
		return p.fail("duplicate key " + quote(k))
	}
	*s |= seen(bit)
	return nil
}
