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
	// client accepted since. Unless Seen, it is refused: a version this
	// client never read (an old commit never checked out here, or a
	// forgery by a member removed by that rotation, who knows the old
	// key: the two cannot be told apart).
	Superseded bool
	// Seen is set for a superseded version this client read or wrote
	// before (an old copy put back, an old commit read here): it is read
	// (Options.Warn hears of it) but never written, and the error is
	// that of a write.
	Seen bool
	// Plugin is set when a write is refused because the store lists a
	// plugin recipient this client never accepted: encrypting to it would
	// run the plugin program it names.
	Plugin string
}

func (e *IntegrityError) Error() string {
	switch {
	case e.Plugin != "":
		return "store " + e.Path + " lists the plugin recipient " + shortRecipient(e.Plugin) + ", which you never accepted: writing would run age-plugin-" + pluginName(e.Plugin)
	case e.Seen:
		return "store " + e.Path + " is an older version, superseded since by a key rotation you accepted: it is never written (that would encrypt new secrets to recipients removed since)"
	case e.Superseded:
		return "store " + e.Path + " is an older version, superseded since by a key rotation you accepted, and not one read here before"
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

// verdict is how a version of a store stands with an accepted state.
type verdict int

const (
	verdictNew        verdict = iota // no state (first use), or a key the version's rotation proofs lead to
	verdictSame                      // the accepted key
	verdictSuperseded                // older than the accepted version, and read or written here before
	verdictOld                       // an older key, in a version never read here
	verdictForged                    // anything else
)

// judge applies the integrity policy to a version with store key key (nil
// before store keys), rotation proofs rotations and file digest digest:
//
//   - no accepted state, or one from before store keys: new (trust on
//     first use);
//   - the same key as accepted: same;
//   - a key the version's rotation proofs lead to from the accepted one:
//     new;
//   - a version this client read or wrote before (its digest is in the
//     state): superseded, readable but never written;
//   - a key from which the accepted version's proofs lead to the accepted
//     one: old, refused. A member removed by that rotation knows the old
//     key and could have written it, so it cannot be told from a forgery;
//   - anything else, a version without a key included: forged.
func judge(st *AcceptedState, key []byte, rotations [][]byte, digest [32]byte) verdict {
	switch {
	case st == nil || st.key == nil:
		return verdictNew
	case key != nil && hashKey(key) == *st.key:
		return verdictSame
	case key != nil && leadsTo(*st.key, hashKey(key), rotations):
		return verdictNew
	case st.saw(digest):
		return verdictSuperseded
	case key != nil && leadsTo(hashKey(key), *st.key, st.rotations):
		return verdictOld
	}
	return verdictForged
}

// Check reports whether a reader holding st accepts the store version s,
// decrypted from the file bytes ciphertext: nil if it does, else an
// *IntegrityError as a read would give (Superseded with Seen for a
// version read only with a warning). A nil st accepts everything.
func (st *AcceptedState) Check(s *Snapshot, ciphertext []byte) error {
	v := judge(st, s.key, s.rotations, sha256.Sum256(ciphertext))
	path := ""
	if st != nil {
		path = st.Path
	}
	switch v {
	case verdictSuperseded:
		return &IntegrityError{Path: path, Superseded: true, Seen: true}
	case verdictOld:
		return &IntegrityError{Path: path, Superseded: true}
	case verdictForged:
		return &IntegrityError{Path: path}
	}
	return nil
}

// writable refuses a write that starts from cur, a superseded version.
func (f *File) writable(cur *document) error {
	if cur.superseded {
		return &IntegrityError{Path: f.path, Superseded: true, Seen: true}
	}
	return nil
}

// HasStoreKey reports whether the snapshot was read from a store with a
// store key (written since store keys exist).
func (s *Snapshot) HasStoreKey() bool { return s.key != nil }
