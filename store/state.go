package store

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/hush-secrets/hush/internal/atomicfile"
)

// The accepted state of a store (see [Options].StateDir) is one file in
// the state directory, named by the SHA-256 of the store's absolute path,
// 0600 in a 0700 directory. It is text, one item a line:
//
//	hush accepted v1
//	store "/abs/path/store.age"
//	key HEX            H(store key) of the version last accepted, if it had one
//	rotation HEX       that version's rotation proofs, oldest first
//	recipient "..."    its recipients
//	name "..."         its entry names
//
// It never holds the store key, a value or a description. The names and
// recipients are there so that `hush trust` can say what changed.

const stateMagic = "hush accepted v1"

// AcceptedState is what a client last accepted of a store: its
// recipients and entry names (never values).
type AcceptedState struct {
	Recipients []string
	Names      []string

	key       *keyHash // nil for a store written before store keys
	rotations [][]byte
}

// statePath returns the file holding the accepted state of the store at
// path, or "" when the check is off.
func (f *File) statePath() (string, error) {
	if f.opts.StateDir == "" {
		return "", nil
	}
	abs, err := filepath.Abs(f.path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(f.opts.StateDir, hex.EncodeToString(sum[:])), nil
}

// loadState reads the accepted state of the store; nil if there is none.
func (f *File) loadState() (*AcceptedState, error) {
	p, err := f.statePath()
	if p == "" || err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil // no state (ENOTDIR: a path where none can be)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the accepted state: %w", err)
	}
	st, err := parseState(b)
	if err != nil {
		return nil, fmt.Errorf("accepted state %s: %w (remove it to accept the store as it is now)", p, err)
	}
	return st, nil
}

func parseState(b []byte) (*AcceptedState, error) {
	st := &AcceptedState{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 0; sc.Scan(); n++ {
		k, v, _ := strings.Cut(sc.Text(), " ")
		if n == 0 {
			if sc.Text() != stateMagic {
				return nil, errors.New("not a hush accepted-state file")
			}
			continue
		}
		var err error
		switch k {
		case "store":
		case "key":
			var h []byte
			if h, err = hex.DecodeString(v); err == nil && len(h) == len(keyHash{}) {
				st.key = (*keyHash)(h)
			} else {
				err = errors.New("bad key")
			}
		case "rotation":
			var r []byte
			if r, err = hex.DecodeString(v); err == nil {
				st.rotations = append(st.rotations, r)
			}
		case "recipient", "name":
			var s string
			if s, err = strconv.Unquote(v); err == nil {
				if k == "name" {
					st.Names = append(st.Names, s)
				} else {
					st.Recipients = append(st.Recipients, s)
				}
			}
		default:
			err = fmt.Errorf("unknown item %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
	}
	return st, sc.Err()
}

// stateOf returns the state that accepting d records.
func stateOf(d *document) *AcceptedState {
	st := &AcceptedState{Recipients: slices.Clone(d.Recipients), rotations: d.rotations}
	st.Names = d.names()
	if d.key != nil {
		h := hashKey(d.key)
		st.key = &h
	}
	return st
}

func (st *AcceptedState) marshal(path string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nstore %s\n", stateMagic, strconv.Quote(path))
	if st.key != nil {
		fmt.Fprintf(&b, "key %x\n", st.key[:])
	}
	for _, r := range st.rotations {
		fmt.Fprintf(&b, "rotation %x\n", r)
	}
	for _, r := range st.Recipients {
		fmt.Fprintf(&b, "recipient %s\n", strconv.Quote(r))
	}
	var line []byte
	size := 0
	for _, n := range st.Names {
		size += len(n) + len("name \"\"\n")
	}
	b.Grow(size)
	for _, n := range st.Names {
		line = append(appendQuoted(append(line[:0], "name "...), n), '\n')
		b.Write(line)
	}
	return b.Bytes()
}

// accept records d as the version of the store this client accepts. It
// writes only when the record changes.
func (f *File) accept(d *document) error {
	p, err := f.statePath()
	if p == "" || err != nil {
		return err
	}
	abs, _ := filepath.Abs(f.path)
	b := stateOf(d).marshal(abs)
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(f.opts.StateDir, 0o700); err != nil {
		return fmt.Errorf("recording the accepted state: %w", err)
	}
	if err := atomicfile.WriteFile(p, b, 0o600, atomicfile.NoSync()); err != nil {
		return fmt.Errorf("recording the accepted state: %w", err)
	}
	return nil
}

// check applies the integrity policy to d, just read from the store:
//
//   - no accepted state, or one from before store keys: accept d and
//     record it (trust on first use);
//   - the same key as accepted: accept;
//   - a key the rotation proofs in d lead to from the accepted one: accept
//     and record;
//   - a key from which the accepted version's proofs lead to the accepted
//     one: an older version, superseded since by a rotation; refuse it
//     with an *IntegrityError marked Superseded. It is not read either:
//     a member removed by that rotation knows the old key and could have
//     written it, so it cannot be told from a forgery;
//   - anything else, a document without a key included: refuse with an
//     *IntegrityError.
func (f *File) check(d *document) error {
	if f.opts.StateDir == "" {
		return nil
	}
	st, err := f.loadState()
	if err != nil {
		return &StoreError{Path: f.path, Err: err}
	}
	switch {
	case st == nil || st.key == nil:
	case d.key == nil:
		return &IntegrityError{Path: f.path}
	case hashKey(d.key) == *st.key:
		// The accepted key: nothing to record. (Recording the names
		// here would cost every first read a walk of the whole store;
		// this client's own writes record them.)
		return nil
	case leadsTo(*st.key, hashKey(d.key), d.rotations):
	case leadsTo(hashKey(d.key), *st.key, st.rotations):
		return &IntegrityError{Path: f.path, Superseded: true}
	default:
		return &IntegrityError{Path: f.path}
	}
	// The document passed the check; recording it only moves the accepted
	// state forward. A state directory that cannot be written (a
	// read-only home) must not make a genuine store unreadable: the
	// record is tried again on the next read.
	_ = f.accept(d)
	return nil
}

// Trust reads the store without the integrity check and records it as
// the version this client accepts, deliberately: for a store refused with
// ErrUntrusted that the user has checked. It returns what was accepted
// before (nil if nothing was, or the check is off) and what is accepted
// now. It fails as Get does when the store cannot be read.
func (f *File) Trust(ctx context.Context) (before, now *AcceptedState, err error) {
	if before, err = f.loadState(); err != nil {
		before = nil // a damaged state is replaced
	}
	d, err := f.readUnchecked()
	if err != nil {
		return nil, nil, err
	}
	if err := f.accept(d); err != nil {
		return nil, nil, &StoreError{Path: f.path, Err: err}
	}
	return before, stateOf(d), nil
}
