package gitstore

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"time"
	"unicode"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store"
)

// TextconvOptions configure [Textconv].
type TextconvOptions struct {
	// Identities decrypt the store.
	Identities []age.Identity
	// ShowValues prints each value (quoted) instead of its fingerprint,
	// for a person who asks. Never set it for output others may read.
	ShowValues bool
	// Accepted are the states this client accepted of the stores the
	// file may be a version of (see store.AcceptedStates). A version that
	// none of them accepts or knows as superseded is marked (see
	// Textconv). None: nothing is marked.
	Accepted []*store.AcceptedState
}

// textconvHeader opens every rendering; it never changes, so it never
// shows in a diff.
const textconvHeader = "# hush store (values hidden; fp: keyed fingerprint, changes when the value does)"

// Textconv writes a line-oriented rendering of the store file in
// ciphertext, for git's textconv: one "recipient R" line per recipient in
// stored order, then one "secret NAME fp:F" line per entry sorted by name,
// with the description quoted when there is one. A line diff of two
// renderings shows names added, removed and changed, and recipients added
// and removed. No value is written unless opts.ShowValues is set.
//
// When the store has no fingerprint key, each line carries the entry's
// updated time instead, which also changes with the value.
//
// A version that every state in opts.Accepted refuses as written by
// someone who could not read the accepted version (a forgery: see
// store.ErrUntrusted; a superseded version is not one) gets a line after
// the header, "integrity FORGED: ...", or "integrity UNVERIFIED: ..." for
// a version without a store key (forged, or from before store keys and
// never read here). Genuine versions get no such line, so
// the line shows in a diff exactly where a forged version comes or goes.
//
// Empty input writes nothing and returns nil (git's side of an added or
// deleted file). If the file cannot be decrypted, Textconv writes one
// placeholder line with the ciphertext's SHA-256 (so a diff still shows
// that something changed) and returns the error, which wraps
// store.ErrDecrypt: a caller serving git should report it and succeed, so
// that git diff keeps working for people who are not recipients. An error
// from w is returned as is.
func Textconv(w io.Writer, ciphertext []byte, opts TextconvOptions) error {
	bw := bufio.NewWriter(w)
	snap, err := store.DecryptSnapshot(ciphertext, opts.Identities)
	switch {
	case errors.Is(err, store.ErrNoStore):
		return nil
	case err != nil:
		sum := sha256.Sum256(ciphertext)
		bw.WriteString("# hush store: cannot decrypt with your identities (ciphertext sha256 " + hex.EncodeToString(sum[:]) + ")\n")
		if ferr := bw.Flush(); ferr != nil {
			return ferr
		}
		return err
	}
	if opts.ShowValues {
		bw.WriteString("# hush store (values shown: --show-values)\n")
	} else {
		bw.WriteString(textconvHeader + "\n")
	}
	if forged(snap, ciphertext, opts.Accepted) {
		if snap.HasStoreKey() {
			bw.WriteString("integrity FORGED: written by someone who could not read the version accepted on this machine\n")
		} else {
			bw.WriteString("integrity UNVERIFIED: no store key (forged, or written before store keys and never read here)\n")
		}
	}
	render(bw, snap, opts.ShowValues)
	clearSnapshot(snap)
	return bw.Flush()
}

// forged reports whether every state in states refuses the version snap
// (decrypted from ciphertext) as a forgery; false with no states.
func forged(snap *store.Snapshot, ciphertext []byte, states []*store.AcceptedState) bool {
	for _, st := range states {
		var ie *store.IntegrityError
		if err := st.Check(snap, ciphertext); !errors.As(err, &ie) || ie.Superseded {
			return false
		}
	}
	return len(states) > 0
}

func render(w *bufio.Writer, snap *store.Snapshot, showValues bool) {
	key := snap.Entries[FingerprintKeyName].Value
	if !showValues {
		if key != nil {
			w.WriteString("fingerprint-key id:" + keyID(key) + "\n")
		} else {
			w.WriteString("fingerprint-key none (run hush git setup to add one)\n")
		}
	}
	for _, r := range snap.Recipients {
		w.WriteString("recipient " + safe(r) + "\n")
	}
	for _, name := range snap.Names() {
		if name == FingerprintKeyName {
			continue
		}
		e := snap.Entries[name]
		w.WriteString("secret " + safe(name))
		switch {
		case showValues:
			w.WriteString(" value:" + strconv.Quote(string(e.Value)))
		case key != nil:
			w.WriteString(" fp:" + Fingerprint(key, name, e.Value))
		default:
			w.WriteString(" updated:" + e.Updated.UTC().Format(time.RFC3339Nano))
		}
		if e.Description != "" {
			w.WriteString(" description:" + strconv.Quote(e.Description))
		}
		w.WriteString("\n")
	}
}

// safe quotes s if it holds anything that would break a line or pass for
// other text: a control character, an invalid byte, or a rune that is not
// printable (bidi controls and zero-width characters among them).
func safe(s string) string {
	for _, r := range s {
		if r == unicode.ReplacementChar || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// clearSnapshot overwrites the values held by snap.
func clearSnapshot(snap *store.Snapshot) {
	if snap == nil {
		return
	}
	for _, e := range snap.Entries {
		clear(e.Value)
	}
}
