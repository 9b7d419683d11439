// Package agent is hush's identity agent: a per-user process that holds
// unlocked identities in memory and unwraps age file keys for clients, so
// a passphrase is typed, or a hardware key touched, once per session
// instead of once per command.
//
// The agent speaks a tiny protocol over a unix socket in a 0700 directory
// under $XDG_RUNTIME_DIR ([SocketPath]): one JSON request and one JSON
// response per connection, each a single line, both carrying [Version].
// A request names the identity files it wants used by [Ref] (a name and
// the SHA-256 of the file's content), so a client only uses an identity
// the agent unlocked from the very file it would have read itself.
//
// The agent (see [Server]) serves only its own uid: the peer credentials
// of every connection are checked before anything is read from it, and a
// client ([Open], [Client]) checks the directory, the socket and the
// server's peer credentials before it sends anything. Private keys never
// leave the agent: a client sends the stanzas of an age header (public
// data) and gets back the file key, exactly what an [age.Identity]'s
// Unwrap returns. It remembers the file keys it unwrapped, by source and
// header, so that a plugin or hardware identity runs (asks for its touch
// or PIN) once per version of a store, not once per command. The agent
// forgets everything, identities and file keys, and exits, on a stop
// request, after an idle timeout and after a maximum lifetime.
package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"filippo.io/age"
)

// Version is the protocol version. A server answers a request of another
// version with an error and nothing else.
const Version = 1

// Default timeouts of an agent; both can be changed per agent.
const (
	DefaultIdleTimeout = 15 * time.Minute
	DefaultMaxLifetime = 8 * time.Hour
)

var (
	// ErrNotRunning means no agent socket exists: no agent runs. It is
	// the normal case, not a reason to warn.
	ErrNotRunning = errors.New("agent: not running")
	// ErrUntrusted means an agent socket exists but is not safe to use:
	// its directory or the socket is owned by another user, has loose
	// permissions or is not what it should be, or the process listening
	// runs as another user. The error says which.
	ErrUntrusted = errors.New("agent: socket not trusted")
	// ErrUnavailable means the agent could not be reached or answered
	// outside the protocol (a stale socket, an agent that just exited).
	// A client falls back to its own identities.
	ErrUnavailable = errors.New("agent: unavailable")
	// ErrNoRuntimeDir means XDG_RUNTIME_DIR is not set, so there is no
	// place for the socket.
	ErrNoRuntimeDir = errors.New("agent: XDG_RUNTIME_DIR is not set")
)

// SocketPath returns the agent's socket, $XDG_RUNTIME_DIR/hush/agent.sock.
// getenv looks up XDG_RUNTIME_DIR. It returns [ErrNoRuntimeDir] when the
// variable is unset or not absolute: the agent does not fall back to a
// shared directory such as /tmp, where another user could have prepared
// the path.
func SocketPath(getenv func(string) string) (string, error) {
	d := getenv("XDG_RUNTIME_DIR")
	if d == "" || !filepath.IsAbs(d) {
		return "", ErrNoRuntimeDir
	}
	return filepath.Join(d, "hush", "agent.sock"), nil
}

// Ref names an identity source: a file by its absolute path, or a
// variable such as HUSH_IDENTITY, and the SHA-256 of its content in hex.
type Ref struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// RefOf returns the Ref of the source name whose content is data.
func RefOf(name string, data []byte) Ref {
	sum := sha256.Sum256(data)
	return Ref{Name: name, SHA256: hex.EncodeToString(sum[:])}
}

func (r Ref) String() string { return fmt.Sprintf("%s (sha256 %.12s)", r.Name, r.SHA256) }

// Source is one identity source the agent holds: where it came from and
// its identities, already unlocked (see [Unlock]).
type Source struct {
	Ref        Ref
	Identities []age.Identity
}

// Status is what an agent says about itself. Nothing in it is secret.
type Status struct {
	PID         int           `json:"pid"`
	Started     time.Time     `json:"started"`
	LastUsed    time.Time     `json:"last_used"`
	IdleTimeout time.Duration `json:"idle_timeout"`
	MaxLifetime time.Duration `json:"max_lifetime"`
	// Forgets is when the agent forgets everything and exits unless it
	// is used before: the earlier of LastUsed+IdleTimeout and
	// Started+MaxLifetime.
	Forgets time.Time `json:"forgets"`
	Files   []Ref     `json:"files"`
	// Dumpable and CoreLimit are the agent's own view of its hardening:
	// false and 0 when it cannot be core-dumped nor read by ptrace.
	Dumpable  bool   `json:"dumpable"`
	CoreLimit uint64 `json:"core_limit"`
}

// Holds reports whether the agent holds the source r (same name, same
// content).
func (s *Status) Holds(r Ref) bool {
	for _, f := range s.Files {
		if f == r {
			return true
		}
	}
	return false
}

// request is a client's one message.
type request struct {
	Version int       `json:"version"`
	Op      string    `json:"op"` // "status", "unwrap" or "stop"
	Files   []Ref     `json:"files,omitempty"`
	Stanzas []*stanza `json:"stanzas,omitempty"`
	// NoWait asks for no identity that may wait for a person (a plugin:
	// a touch, a PIN); a file key the agent remembers is still given.
	NoWait bool `json:"no_wait,omitempty"`
}

type stanza struct {
	Type string   `json:"type"`
	Args []string `json:"args"`
	Body []byte   `json:"body"`
}

// response is the server's one answer. Code is empty on success.
type response struct {
	Version int     `json:"version"`
	Code    string  `json:"code,omitempty"`
	Error   string  `json:"error,omitempty"`
	FileKey []byte  `json:"file_key,omitempty"`
	Status  *Status `json:"status,omitempty"`
}

// Response codes.
const (
	codeIncorrect = "incorrect_identity" // no held identity matched: age.ErrIncorrectIdentity
	codeUnknown   = "unknown_file"       // none of the requested sources is held
	codeFailed    = "failed"             // an identity failed; Error says why
	codeBad       = "bad_request"
)

const maxMessage = 4 << 20
