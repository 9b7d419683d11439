package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"filippo.io/age"
	"filippo.io/age/plugin"
)

// Server is an agent: it answers clients on a listener from [Listen]
// with the identities of Sources until it is stopped or times out.
type Server struct {
	// Sources are the unlocked identity sources the agent holds.
	Sources []Source
	// IdleTimeout ends the agent when no unwrap was asked for this long
	// (status requests do not count); 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxLifetime ends the agent this long after Serve started, however
	// busy; 0 means DefaultMaxLifetime.
	MaxLifetime time.Duration

	mu       sync.Mutex          // guards Sources, keys and lastUsed; serialises unwraps
	keys     map[[32]byte][]byte // file keys unwrapped, by source and header (see headerID)
	order    [][32]byte          // keys' entries, oldest first
	started  time.Time
	lastUsed time.Time
	used     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
}

// Listen creates the socket at path (see [SocketPath]) for a new agent.
// The directory is created 0700 if missing; an existing one must be a
// directory (not a symlink) owned by the caller with mode 0700, or Listen
// fails with an error wrapping [ErrUntrusted]. A socket left by an agent
// that died is replaced; a live agent's is not: Listen then fails with an
// error saying one runs.
func Listen(path string) (*net.UnixListener, error) {
	dir := filepath.Dir(path)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("agent: creating %s: %w", dir, err)
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(path); err == nil {
		if err := checkSocket(path); err != nil {
			return nil, err
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("agent: an agent already listens on %s", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("agent: removing the stale socket: %w", err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("agent: %w", err)
	}
	return ln, nil
}

// Serve answers clients on ln until ctx ends, a client asks the agent to
// stop, the idle timeout passes without an unwrap, or the maximum lifetime
// passes, or the socket is removed or replaced (checked every two
// seconds). Then it closes ln (removing the socket), waits for the requests
// in progress, forgets every identity and returns why it stopped: "stop
// requested", "idle timeout", "maximum lifetime" or "interrupted".
func (s *Server) Serve(ctx context.Context, ln *net.UnixListener) string {
	idleTimeout, maxLifetime := s.timeouts()
	s.mu.Lock()
	s.started = time.Now()
	s.lastUsed = s.started
	s.used = make(chan struct{}, 1)
	s.stop = make(chan struct{})
	s.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.AcceptUnix()
			if err != nil {
				return // the listener was closed
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.serveConn(c)
			}()
		}
	}()

	idle := time.NewTimer(idleTimeout)
	life := time.NewTimer(maxLifetime)
	watch := time.NewTicker(2 * time.Second)
	defer idle.Stop()
	defer life.Stop()
	defer watch.Stop()
	path := ln.Addr().String()
	sock, _ := os.Lstat(path)
	ln.SetUnlinkOnClose(false) // removed below, only if still ours
	var reason string
	for reason == "" {
		select {
		case <-watch.C:
			if fi, err := os.Lstat(path); err != nil || sock == nil || !os.SameFile(fi, sock) {
				reason = "socket removed"
			}
		case <-ctx.Done():
			reason = "interrupted"
		case <-s.stop:
			reason = "stop requested"
		case <-idle.C:
			reason = "idle timeout"
		case <-life.C:
			reason = "maximum lifetime"
		case <-s.used:
			idle.Reset(idleTimeout)
		}
	}
	ln.Close()
	if fi, err := os.Lstat(path); err == nil && sock != nil && os.SameFile(fi, sock) {
		os.Remove(path)
	}
	wg.Wait()
	s.forget()
	return reason
}

func (s *Server) timeouts() (idle, life time.Duration) {
	idle, life = s.IdleTimeout, s.MaxLifetime
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	if life <= 0 {
		life = DefaultMaxLifetime
	}
	return idle, life
}

// forget drops every identity. The process exits right after, which is
// what really frees the memory; until then nothing references the keys.
func (s *Server) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.Sources {
		clear(s.Sources[i].Identities)
	}
	clear(s.Sources)
	s.Sources = nil
	for _, k := range s.keys {
		clear(k)
	}
	s.keys, s.order = nil, nil
}

// maxKeys is how many file keys the agent remembers; the oldest goes
// first. A store has one per version, so this is plenty for a session.
const maxKeys = 256

// headerID names the header stanzas as unwrapped by the identities of the
// source ref: the SHA-256 of the ref and of every stanza, each part
// length-prefixed.
func headerID(ref Ref, stanzas []*age.Stanza) [32]byte {
	h := sha256.New()
	put := func(b []byte) {
		binary.Write(h, binary.BigEndian, uint64(len(b)))
		h.Write(b)
	}
	put([]byte(ref.Name))
	put([]byte(ref.SHA256))
	for _, st := range stanzas {
		put([]byte(st.Type))
		binary.Write(h, binary.BigEndian, uint64(len(st.Args)))
		for _, a := range st.Args {
			put([]byte(a))
		}
		put(st.Body)
	}
	var id [32]byte
	h.Sum(id[:0])
	return id
}

// remember keeps key as what the header id unwraps to. s.mu is held.
func (s *Server) remember(id [32]byte, key []byte) {
	if s.keys == nil {
		s.keys = make(map[[32]byte][]byte)
	}
	if _, ok := s.keys[id]; ok {
		return
	}
	if len(s.order) >= maxKeys {
		clear(s.keys[s.order[0]])
		delete(s.keys, s.order[0])
		s.order = s.order[1:]
	}
	s.keys[id] = bytes.Clone(key)
	s.order = append(s.order, id)
}

// serveConn answers one request on c, after checking that the peer runs
// as this process's uid. A peer of another uid gets nothing: the
// connection is closed before a byte is read.
func (s *Server) serveConn(c *net.UnixConn) {
	defer c.Close()
	uid, err := peerUID(c)
	if err != nil || uid != os.Getuid() {
		return
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	var req request
	var resp *response
	if err := json.NewDecoder(io.LimitReader(c, maxMessage)).Decode(&req); err != nil {
		resp = &response{Code: codeBad, Error: "malformed request"}
	} else {
		resp = s.handle(&req)
	}
	resp.Version = Version
	b, _ := json.Marshal(resp)
	c.Write(append(b, '\n'))
	clear(resp.FileKey)
	clear(b)
}

func (s *Server) handle(req *request) *response {
	if req.Version != Version {
		return &response{Code: codeBad, Error: fmt.Sprintf("protocol version %d not supported (this agent speaks %d)", req.Version, Version)}
	}
	switch req.Op {
	case "status":
		return &response{Status: s.status()}
	case "stop":
		s.stopOnce.Do(func() { close(s.stop) })
		return &response{}
	case "unwrap":
		return s.unwrap(req.Files, req.Stanzas, req.NoWait)
	}
	return &response{Code: codeBad, Error: fmt.Sprintf("unknown operation %q", req.Op)}
}

func (s *Server) status() *Status {
	idle, life := s.timeouts()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &Status{
		PID: os.Getpid(), Started: s.started, LastUsed: s.lastUsed,
		IdleTimeout: idle, MaxLifetime: life,
		Forgets: s.lastUsed.Add(idle),
		Files:   []Ref{},
	}
	if end := s.started.Add(life); end.Before(st.Forgets) {
		st.Forgets = end
	}
	for _, src := range s.Sources {
		st.Files = append(st.Files, src.Ref)
	}
	st.Dumpable, st.CoreLimit = hardening()
	return st
}

// unwrap runs Unwrap on the identities of the held sources among files,
// in the order files names them, as age.Decrypt would: the first file key
// wins, age.ErrIncorrectIdentity moves on, any other error ends the search.
// With noWait, plugin identities are passed over (they may wait for a
// touch or a PIN) unless the file key is remembered.
func (s *Server) unwrap(files []Ref, in []*stanza, noWait bool) *response {
	stanzas := make([]*age.Stanza, 0, len(in))
	for _, st := range in {
		if st == nil {
			return &response{Code: codeBad, Error: "malformed stanza"}
		}
		stanzas = append(stanzas, &age.Stanza{Type: st.Type, Args: st.Args, Body: st.Body})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var held []Source
	for _, f := range files {
		for _, src := range s.Sources {
			if src.Ref == f {
				held = append(held, src)
			}
		}
	}
	if len(held) == 0 {
		return &response{Code: codeUnknown, Error: "the agent holds none of these identity files"}
	}
	s.lastUsed = time.Now()
	select {
	case s.used <- struct{}{}:
	default:
	}
	// A header already unwrapped by a source is answered from memory: a
	// plugin or a hardware key runs (asks for a touch or a PIN) once per
	// version of a store and session, not once per command.
	for _, src := range held {
		if key, ok := s.keys[headerID(src.Ref, stanzas)]; ok {
			return &response{FileKey: bytes.Clone(key)}
		}
	}
	for _, src := range held {
		for _, id := range src.Identities {
			if _, isPlugin := id.(*plugin.Identity); isPlugin && noWait {
				continue
			}
			key, err := id.Unwrap(stanzas)
			switch {
			case err == nil:
				s.remember(headerID(src.Ref, stanzas), key)
				return &response{FileKey: key}
			case errors.Is(err, age.ErrIncorrectIdentity):
				continue
			default:
				return &response{Code: codeFailed, Error: err.Error()}
			}
		}
	}
	return &response{Code: codeIncorrect, Error: age.ErrIncorrectIdentity.Error()}
}
