package store

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
//	seen HEX           SHA-256 of the store file of a version this client
//	                   read or wrote, the last maxSeen of them, oldest first
//	file N N N N N N N HEX  the identity (device, inode, size, mtime and
//	                   ctime, as the cache's) and SHA-256 of the file last
//	                   read or written: a read of that same file takes its
//	                   digest from here instead of hashing the file again
//	plugin "..."       plugin recipients this client accepted (see checkPlugins)
//	recipient "..."    its recipients
//	name "..."         its entry names, in a state written before the
//	                   names file (see statenames.go) existed: still read
//
// The integrity check reads only up to the first recipient line.
// It never holds the store key, a value or a description. The names and
// recipients are there so that `hush trust` can say what changed; the
// names are in a file of their own, so that neither a read nor a write
// that changes no name reads or writes them.

const stateMagic = "hush accepted v1"

// maxSeen bounds the versions a state remembers having read (about 7 KB).
const maxSeen = 100

// AcceptedState is what a client last accepted of a store: its
// recipients and entry names (never values).
type AcceptedState struct {
	// Path is the store's absolute path.
	Path       string
	Recipients []string
	// Names are the entry names, sorted; nil when unknown (a names file
	// lost). Only Trust and AcceptedStateOf read them.
	Names []string

	key       *keyHash // nil for a store written before store keys
	rotations [][]byte
	plugins   []string // plugin recipients accepted, as recipientKey
	seen      []string // digests of versions read or written, in hex
	last      fileID   // the file last read or written, whose digest
	lastSum   [32]byte // is lastSum
}

// saw reports whether the store file whose SHA-256 is digest was read or
// written by this client.
func (st *AcceptedState) saw(digest [32]byte) bool {
	return digest != [32]byte{} && slices.Contains(st.seen, hex.EncodeToString(digest[:]))
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

// loadState reads the accepted state of the store, without its names
// file; nil if there is none.
func (f *File) loadState() (*AcceptedState, error) { return f.loadStateTo(false) }

// loadStateNames reads the accepted state of the store with its names.
func (f *File) loadStateNames() (*AcceptedState, error) {
	st, err := f.loadState()
	if st == nil || err != nil || st.Names != nil {
		return st, err // a state from before the names file lists them
	}
	p, _ := f.statePath()
	if st.Names, err = loadNames(p); err != nil {
		return nil, err
	}
	return st, nil
}

// loadStateTo reads the accepted state; with head, only what the
// integrity check needs (no recipients, no names).
func (f *File) loadStateTo(head bool) (*AcceptedState, error) {
	p, err := f.statePath()
	if p == "" || err != nil {
		return nil, err
	}
	fh, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil // no state (ENOTDIR: a path where none can be)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the accepted state: %w", err)
	}
	defer fh.Close()
	st, err := parseState(fh, head)
	if err != nil {
		return nil, fmt.Errorf("accepted state %s: %w (remove it to accept the store as it is now)", p, err)
	}
	return st, nil
}

// parseState reads a state from r; with head, it stops at the first
// recipient or name.
func parseState(r io.Reader, head bool) (*AcceptedState, error) {
	st := &AcceptedState{}
	sc := bufio.NewScanner(r)
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
		if head && (k == "recipient" || k == "name") {
			break
		}
		switch k {
		case "file":
			err = st.parseFile(v)
		case "store":
			st.Path, err = strconv.Unquote(v)
		case "seen":
			if len(v) != 2*sha256.Size || strings.Trim(v, "0123456789abcdef") != "" {
				err = errors.New("bad digest")
			}
			st.seen = append(st.seen, v)
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
		case "recipient", "name", "plugin":
			var s string
			if s, err = strconv.Unquote(v); err == nil {
				switch k {
				case "name":
					st.Names = append(st.Names, s)
				case "plugin":
					st.plugins = append(st.plugins, s)
				default:
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

// stateOf returns the state that accepting d records after prev (nil if
// there was none): d's key and recipients (the names are accept's); the plugin recipients
// prev accepted, those given for d (or, on a first use or with all, every
// one d has); and the versions prev saw, and d.
func stateOf(d *document, prev *AcceptedState, all bool) *AcceptedState {
	st := &AcceptedState{Recipients: slices.Clone(d.Recipients), rotations: d.rotations}
	if d.key != nil {
		h := hashKey(d.key)
		st.key = &h
	}
	plugins := d.givenPlugins
	if prev == nil || all {
		plugins = d.Recipients
	}
	if prev != nil {
		st.plugins = slices.Clone(prev.plugins)
		st.seen = slices.Clone(prev.seen)
	}
	for _, r := range plugins {
		if k := recipientKey(r); isPlugin(k) && !slices.Contains(st.plugins, k) {
			st.plugins = append(st.plugins, k)
		}
	}
	st.see(d.digest)
	if d.fileID != (fileID{}) {
		st.last, st.lastSum = d.fileID, d.digest
	}
	return st
}

// see adds digest to the versions st saw, forgetting the oldest beyond
// maxSeen.
func (st *AcceptedState) see(digest [32]byte) {
	if digest == [32]byte{} || st.saw(digest) {
		return
	}
	st.seen = append(st.seen, hex.EncodeToString(digest[:]))
	if n := len(st.seen) - maxSeen; n > 0 {
		st.seen = st.seen[n:]
	}
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
	for _, h := range st.seen {
		fmt.Fprintf(&b, "seen %s\n", h)
	}
	if l := st.last; l != (fileID{}) {
		fmt.Fprintf(&b, "file %d %d %d %d %d %d %d %x\n", l.dev, l.ino, l.size, l.mtimeS, l.mtimeN, l.ctimeS, l.ctimeN, st.lastSum[:])
	}
	for _, p := range st.plugins {
		fmt.Fprintf(&b, "plugin %s\n", strconv.Quote(p))
	}
	for _, r := range st.Recipients {
		fmt.Fprintf(&b, "recipient %s\n", strconv.Quote(r))
	}
	// Only a state from before the names file has names inline (see
	// recordRead); stateOf never sets them.
	var line []byte
	for _, n := range st.Names {
		line = append(appendQuoted(append(line[:0], "name "...), n), '\n')
		b.Write(line)
	}
	return b.Bytes()
}

// parseFile parses the value of a file line.
func (st *AcceptedState) parseFile(v string) error {
	f := strings.Fields(v)
	if len(f) != 8 {
		return errors.New("bad file")
	}
	var n [7]int64
	for i := range n {
		x, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return errors.New("bad file")
		}
		n[i] = x
	}
	sum, err := hex.DecodeString(f[7])
	if err != nil || len(sum) != 32 {
		return errors.New("bad file")
	}
	st.last = fileID{dev: uint64(n[0]), ino: uint64(n[1]), size: uint64(n[2]), mtimeS: n[3], mtimeN: n[4], ctimeS: n[5], ctimeN: n[6]}
	st.lastSum = [32]byte(sum)
	return nil
}

// accept records d as the version of the store this client accepts,
// after the state loaded before (prev, nil if none); with all, every
// plugin recipient of d is accepted too (see stateOf). The names file is
// written first, and only if it does not hold d's names already.
func (f *File) accept(d *document, prev *AcceptedState, all bool) error {
	p, err := f.statePath()
	if p == "" || err != nil {
		return err
	}
	if err := f.saveNames(p, d); err != nil {
		return fmt.Errorf("recording the accepted state: %w", err)
	}
	abs, _ := filepath.Abs(f.path)
	return f.saveState(stateOf(d, prev, all).marshal(abs))
}

// acceptWritten records d, just written by this client.
func (f *File) acceptWritten(d *document) error {
	prev, err := f.loadState()
	if err != nil {
		prev = nil // a damaged state is replaced
	}
	return f.accept(d, prev, false)
}

// AcceptedStateOf returns the accepted state recorded in stateDir for the
// store at path, or nil if there is none.
func AcceptedStateOf(stateDir, path string) (*AcceptedState, error) {
	return newFile(path, Options{StateDir: stateDir}).loadStateNames()
}

// AcceptsPlugin reports whether r is a plugin recipient this client
// accepted (see Options.StateDir): only then may a write run its plugin.
// A nil st accepts none.
func (st *AcceptedState) AcceptsPlugin(r string) bool {
	return st != nil && slices.Contains(st.plugins, recipientKey(r))
}

// IsPluginRecipient reports whether encrypting to r runs a plugin
// program (age1NAME1... or AGE-PLUGIN-NAME-1...).
func IsPluginRecipient(r string) bool { return isPlugin(recipientKey(r)) }

// AcceptedStates returns the accepted states recorded in stateDir for the
// stores inside dir (an absolute path), for tools that judge versions of
// those stores which are not files (see [AcceptedState.Check]). A missing
// stateDir holds none; a state that cannot be read is skipped.
func AcceptedStates(stateDir, dir string) ([]*AcceptedState, error) {
	des, err := os.ReadDir(stateDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*AcceptedState
	for _, de := range des {
		if !de.Type().IsRegular() || len(de.Name()) != 2*sha256.Size {
			continue
		}
		b, err := os.ReadFile(filepath.Join(stateDir, de.Name()))
		if err != nil {
			continue
		}
		st, err := parseState(bytes.NewReader(b), true)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(dir, st.Path); err == nil && filepath.IsLocal(rel) {
			out = append(out, st)
		}
	}
	return out, nil
}

// saveState writes the state file, only when its content changes.
func (f *File) saveState(b []byte) error {
	p, err := f.statePath()
	if p == "" || err != nil {
		return err
	}
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

// check applies the integrity policy (see judge) to d, just read from the
// store, and records what it accepts. A superseded version it reads is
// marked so that no write starts from it, and reported to Options.Warn.
func (f *File) check(d *document) error {
	if f.opts.StateDir == "" {
		return nil
	}
	st, err := d.state, d.stateErr
	if err != nil {
		return &StoreError{Path: f.path, Err: err}
	}
	f.mu.Lock()
	f.held = fileRecord{}
	f.mu.Unlock()
	// A state directory that cannot be written (a read-only home) must
	// not make a genuine store unreadable: the record is tried again on
	// the next read.
	switch judge(st, d.key, d.rotations, d.digest) {
	case verdictNew:
		_ = f.accept(d, st, false)
	case verdictSame:
		// Only the version is recorded, not its names: that would cost
		// every first read a walk of the whole store (this client's own
		// writes record them).
		// A version seen before writes nothing, even as another file (a
		// copy, a chmod): that file is only held for RecordReads.
		if !st.saw(d.digest) {
			_ = f.recordRead(d)
		} else {
			f.holdRead(st, d)
		}
	case verdictSuperseded:
		d.superseded = true
		f.holdRead(st, d)
		if f.opts.Warn != nil {
			f.opts.Warn("warning: store " + f.path + " is an older version, superseded since by a key rotation you accepted: read-only")
		}
	case verdictOld:
		return &IntegrityError{Path: f.path, Superseded: true}
	default:
		return &IntegrityError{Path: f.path}
	}
	return nil
}

// recordRead adds d, a version read under the accepted key, to the
// versions seen, without recording its names (the names file, or a
// state's inline names, stay those recorded before).
func (f *File) recordRead(d *document) error {
	st, err := f.loadState()
	if err != nil || st == nil {
		return err
	}
	st.see(d.digest)
	st.last, st.lastSum = d.fileID, d.digest
	abs, _ := filepath.Abs(f.path)
	return f.saveState(st.marshal(abs))
}

// Trust reads the store without the integrity check and records it as
// the version this client accepts, deliberately: for a store refused with
// ErrUntrusted that the user has checked. Its plugin recipients are
// accepted too. It returns what was accepted before (nil if nothing was,
// or the check is off) and what is accepted now. It fails as Get does
// when the store cannot be read.
func (f *File) Trust(ctx context.Context) (before, now *AcceptedState, err error) {
	if before, err = f.loadStateNames(); err != nil {
		before = nil // a damaged state is replaced
	}
	if p, _ := f.statePath(); before != nil && before.Names == nil {
		os.Remove(namesPath(p)) // damaged: written again below
	}
	d, err := f.readUnchecked()
	if err != nil {
		return nil, nil, err
	}
	if err := f.accept(d, before, true); err != nil {
		return nil, nil, &StoreError{Path: f.path, Err: err}
	}
	now = stateOf(d, before, true)
	now.Names = d.names()
	return before, now, nil
}
