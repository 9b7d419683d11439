package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"

	"github.com/hush-secrets/hush/store/internal/format"
)

// ErrUntrusted means a store was refused because whoever wrote it could
// not read the version this client last accepted: it may be forged by
// someone who knows only the recipients' public keys, or by a member
// removed since. The error is an *IntegrityError naming the store.
var ErrUntrusted = errors.New("store written by someone who could not read the accepted version")

// IntegrityError reports a store refused by the integrity check (see
// [Options].StateDir). It unwraps to ErrUntrusted.
type IntegrityError struct {
	Path string
	// Superseded is set for a version older than a key rotation this
	// client accepted since (an old commit checked out, an old copy put
	// back, or a forgery by a member removed by that rotation, who knows
	// the old key: the two cannot be told apart).
	Superseded bool
}

func (e *IntegrityError) Error() string {
	if e.Superseded {
		return "store " + e.Path + " is an older version, superseded since by a key rotation you accepted"
	}
	return "store " + e.Path + " was written by someone who could not read the version you last accepted"
}

func (e *IntegrityError) Unwrap() error { return ErrUntrusted }

// keyHash is H of the package format comment: what the accepted state
// keeps of a store key, and the HMAC key of a rotation proof from it.
type keyHash [sha256.Size]byte

func hashKey(k []byte) keyHash { return sha256.Sum256(k) }

// rotateTag starts the message of every rotation proof.
const rotateTag = "hush rotate v1"

// newStoreKey returns a fresh random store key.
func newStoreKey() []byte {
	k := make([]byte, format.KeySize)
	rand.Read(k) // never fails (crypto/rand)
	return k
}

// proofMAC is HMAC-SHA256(from, rotateTag || to).
func proofMAC(from, to keyHash) []byte {
	m := hmac.New(sha256.New, from[:])
	m.Write([]byte(rotateTag))
	m.Write(to[:])
	return m.Sum(nil)
}

// rotationProof proves, to a reader who knows H(from), that the writer
// of the key hashed as to knew it: H(to) || proofMAC.
func rotationProof(from, to keyHash) []byte {
	return append(to[:len(to):len(to)], proofMAC(from, to)...)
}

// rotate gives d a fresh store key with a proof that the writer knew the
// old one (a document without a key just gets one).
func (d *document) rotate() {
	k := newStoreKey()
	if d.key != nil {
		d.addProofs(rotationProof(hashKey(d.key), hashKey(k)))
	}
	d.key = k
}

// addProofs appends rotation proofs, keeping the last format.MaxRotations.
func (d *document) addProofs(ps ...[]byte) {
	rs := append(d.rotations[:len(d.rotations):len(d.rotations)], ps...)
	if n := len(rs) - format.MaxRotations; n > 0 {
		rs = rs[n:]
	}
	d.rotations = rs
}

// ensureKey gives a document written before store keys existed one.
func (d *document) ensureKey() {
	if d.key == nil {
		d.key = newStoreKey()
	}
}

// leadsTo reports whether the rotation proofs lead from the key hashed as
// from to the one hashed as to: to is from, or some proof made with from
// names a key from which proofs lead to to.
func leadsTo(from, to keyHash, rotations [][]byte) bool {
	reached := []keyHash{from}
	used := make([]bool, len(rotations))
	for progress := true; progress; {
		progress = false
		for _, h := range reached {
			if h == to {
				return true
			}
		}
		for i, r := range rotations {
			if used[i] || len(r) != format.RotationSize {
				continue
			}
			next := keyHash(r[:sha256.Size])
			for _, h := range reached {
				if hmac.Equal(r[sha256.Size:], proofMAC(h, next)) {
					used[i], progress = true, true
					reached = append(reached, next)
					break
				}
			}
		}
	}
	return false
}

// MergeIntegrity sets the store key of merged, a store merged from ours
// and theirs (by the git merge driver), so that every reader who accepted
// either side accepts the merge: the same key if both sides have it (or
// only one has a key at all), else a key derived from both with a proof
// from each. The rotation proofs of both sides are kept.
func MergeIntegrity(merged, ours, theirs *Snapshot) {
	a, b := ours.key, theirs.key
	merged.rotations = unionProofs(ours.rotations, theirs.rotations)
	switch {
	case a == nil:
		merged.key = bytes.Clone(b)
		return
	case b == nil || bytes.Equal(a, b):
		merged.key = bytes.Clone(a)
		return
	}
	if bytes.Compare(a, b) > 0 {
		a, b = b, a
	}
	// Derived, not random: two clones that merge the same sides agree.
	m := sha256.New()
	m.Write([]byte("hush merge v1"))
	m.Write(a)
	m.Write(b)
	k := m.Sum(nil)
	d := &document{rotations: merged.rotations}
	d.addProofs(rotationProof(hashKey(a), hashKey(k)), rotationProof(hashKey(b), hashKey(k)))
	merged.key, merged.rotations = k, d.rotations
}

// unionProofs returns the proofs of a, then those of b not in a.
func unionProofs(a, b [][]byte) [][]byte {
	out := make([][]byte, 0, len(a)+len(b))
	out = append(out, a...)
outer:
	for _, r := range b {
		for _, s := range a {
			if bytes.Equal(r, s) {
				continue outer
			}
		}
		out = append(out, r)
	}
	if n := len(out) - format.MaxRotations; n > 0 {
		out = out[n:]
	}
	return out
}
