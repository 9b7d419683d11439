package format

import (
	"encoding/base64"
	"strconv"
)

// KeySize is the size of a store key, in bytes.
const KeySize = 32

// RotationSize is the size of one rotation proof, in bytes: the SHA-256
// of the new key, then the HMAC-SHA256 that proves the old one.
const RotationSize = 64

// MaxRotations is the most rotation proofs a document may carry.
const MaxRotations = 64

// Integrity is what a document carries to prove who wrote it (see
// "Integrity" in the package comment): the store key, nil in a document
// written before there was one, and the rotation proofs, oldest first.
type Integrity struct {
	StoreKey  []byte
	Rotations [][]byte
}

// storeKey parses the "store_key" member: the base64 of KeySize bytes.
func (p *parser) storeKey(d *Document) error {
	s, err := p.str()
	if err != nil {
		return err
	}
	k, ok := decodeFixed(p.bytes(s), KeySize)
	if !ok {
		return &Error{Reason: "bad store key"}
	}
	d.StoreKey = k
	return nil
}

// rotations parses the "rotations" member: an array of the base64 of
// RotationSize bytes each, or null.
func (p *parser) rotations(d *Document) error {
	if p.literal("null") {
		return nil
	}
	if err := p.expect('['); err != nil {
		return err
	}
	return p.items(']', func() error {
		s, err := p.str()
		if err != nil {
			return err
		}
		r, ok := decodeFixed(p.bytes(s), RotationSize)
		if !ok {
			return &Error{Reason: "bad rotation proof"}
		}
		if len(d.Rotations) == MaxRotations {
			return &Error{Reason: "more than " + strconv.Itoa(MaxRotations) + " rotation proofs"}
		}
		d.Rotations = append(d.Rotations, r)
		return nil
	})
}

// decodeFixed decodes standard, padded base64 of exactly n bytes.
func decodeFixed(s []byte, n int) ([]byte, bool) {
	if len(s) != base64.StdEncoding.EncodedLen(n) {
		return nil, false
	}
	out := make([]byte, n)
	m, err := base64.StdEncoding.Strict().Decode(out, s)
	return out, err == nil && m == n
}

// appendIntegrity appends the members of in to a document being encoded.
func appendIntegrity(b []byte, in Integrity) []byte {
	if in.StoreKey != nil {
		b = append(b, `,"store_key":"`...)
		b = base64.StdEncoding.AppendEncode(b, in.StoreKey)
		b = append(b, '"')
	}
	if len(in.Rotations) > 0 {
		b = append(b, `,"rotations":[`...)
		for i, r := range in.Rotations {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, r)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	return b
}
