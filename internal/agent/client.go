package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"filippo.io/age"
)

// Client talks to the agent listening on one socket. Each request is a
// new connection, checked anew.
type Client struct {
	path string
}

// Open returns a client for the agent at path (see [SocketPath]) after
// checking, without connecting, that the directory is a directory (not a
// symlink) owned by the caller with mode 0700 and that path is a socket
// owned by the caller. It returns an error wrapping [ErrNotRunning] when
// the directory or the socket does not exist, and one wrapping
// [ErrUntrusted] that names the problem when a check fails.
func Open(path string) (*Client, error) {
	dir := filepath.Dir(path)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotRunning
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotRunning
	}
	if err := checkSocket(path); err != nil {
		return nil, err
	}
	return &Client{path: path}, nil
}

// Path returns the socket the client talks to.
func (c *Client) Path() string { return c.path }

// checkDir refuses a socket directory that another user could have
// prepared or can enter.
func checkDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory (%v)", ErrUntrusted, dir, fi.Mode().Type())
	}
	if uid, ok := owner(fi); !ok || uid != os.Getuid() {
		return fmt.Errorf("%w: directory %s is owned by uid %d, not by you (uid %d)", ErrUntrusted, dir, uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: directory %s has mode %04o; it must be 0700", ErrUntrusted, dir, fi.Mode().Perm())
	}
	return nil
}

// checkSocket refuses a path that is not a socket owned by the caller.
func checkSocket(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%w: %s is not a socket", ErrUntrusted, path)
	}
	if uid, ok := owner(fi); !ok || uid != os.Getuid() {
		return fmt.Errorf("%w: socket %s is owned by uid %d, not by you (uid %d)", ErrUntrusted, path, uid, os.Getuid())
	}
	return nil
}

func owner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, false
	}
	return int(st.Uid), true
}

// roundTrip sends req on a new connection and reads the answer. The
// server's peer credentials are checked before req is sent: a process of
// another uid listening on the socket gets nothing ([ErrUntrusted]).
// Failures to connect or to get a well-formed answer wrap
// [ErrUnavailable].
func (c *Client) roundTrip(req *request) (*response, error) {
	req.Version = Version
	conn, err := net.DialTimeout("unix", c.path, 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, c.path, unwrapSyscall(err))
	}
	defer conn.Close()
	uc := conn.(*net.UnixConn)
	uid, err := peerUID(uc)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUntrusted, c.path, err)
	}
	if uid != os.Getuid() {
		return nil, fmt.Errorf("%w: the process listening on %s runs as uid %d, not as you (uid %d)", ErrUntrusted, c.path, uid, os.Getuid())
	}
	conn.SetDeadline(time.Now().Add(5 * time.Minute)) // a plugin may wait for a touch
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, c.path, unwrapSyscall(err))
	}
	var resp response
	if err := json.NewDecoder(io.LimitReader(conn, maxMessage)).Decode(&resp); err != nil {
		return nil, fmt.Errorf("%w: %s: no answer (%v)", ErrUnavailable, c.path, unwrapSyscall(err))
	}
	if resp.Version != Version {
		return nil, fmt.Errorf("%w: %s speaks protocol version %d, not %d", ErrUnavailable, c.path, resp.Version, Version)
	}
	if resp.Code == codeBad {
		return nil, fmt.Errorf("%w: the agent refused the request: %s", ErrUnavailable, resp.Error)
	}
	return &resp, nil
}

// unwrapSyscall shortens "dial unix /path: connect: connection refused"
// to its last part.
func unwrapSyscall(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// Status asks the agent about itself; see [Client.roundTrip] for errors.
func (c *Client) Status() (*Status, error) {
	resp, err := c.roundTrip(&request{Op: "status"})
	if err != nil {
		return nil, err
	}
	if resp.Status == nil {
		return nil, fmt.Errorf("%w: %s: empty status", ErrUnavailable, c.path)
	}
	return resp.Status, nil
}

// Stop asks the agent to forget everything and exit, and waits (up to a
// few seconds) until its socket is gone.
func (c *Client) Stop() error {
	if _, err := c.roundTrip(&request{Op: "stop"}); err != nil {
		return err
	}
	for range 200 {
		if _, err := os.Lstat(c.path); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("agent: %s still exists after the agent was asked to stop", c.path)
}

// Unwrap asks the agent to unwrap stanzas with the identities of the
// sources files that it holds. It returns the file key, an error wrapping
// age.ErrIncorrectIdentity when none of them matches, an error wrapping
// [ErrUnavailable] when the agent cannot be reached or holds none of
// files, and any other failure of an identity as an error of its own.
func (c *Client) Unwrap(files []Ref, stanzas []*age.Stanza) ([]byte, error) {
	return c.unwrap(&request{Op: "unwrap", Files: files}, stanzas)
}

// UnwrapNoWait is Unwrap without the identities that may wait for a
// person (plugins: a touch, a PIN), for callers that must answer at once,
// such as shell completion. A file key the agent remembers from an
// earlier Unwrap is still returned.
func (c *Client) UnwrapNoWait(files []Ref, stanzas []*age.Stanza) ([]byte, error) {
	return c.unwrap(&request{Op: "unwrap", Files: files, NoWait: true}, stanzas)
}

func (c *Client) unwrap(req *request, stanzas []*age.Stanza) ([]byte, error) {
	for _, s := range stanzas {
		req.Stanzas = append(req.Stanzas, &stanza{Type: s.Type, Args: s.Args, Body: s.Body})
	}
	resp, err := c.roundTrip(req)
	if err != nil {
		return nil, err
	}
	switch resp.Code {
	case "":
		if len(resp.FileKey) == 0 {
			return nil, fmt.Errorf("%w: %s: empty file key", ErrUnavailable, c.path)
		}
		return resp.FileKey, nil
	case codeIncorrect:
		return nil, age.ErrIncorrectIdentity
	case codeUnknown:
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, resp.Error)
	}
	return nil, fmt.Errorf("agent: %s", resp.Error)
}

// Identity returns an age.Identity whose Unwrap is c.Unwrap with files.
func (c *Client) Identity(files []Ref) age.Identity {
	return &identity{c: c, files: files}
}

// IdentityNoWait returns an age.Identity whose Unwrap is c.UnwrapNoWait
// with files.
func (c *Client) IdentityNoWait(files []Ref) age.Identity {
	return &identity{c: c, files: files, noWait: true}
}

type identity struct {
	c      *Client
	files  []Ref
	noWait bool
}

var _ age.Identity = (*identity)(nil)

func (i *identity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if i.noWait {
		return i.c.UnwrapNoWait(i.files, stanzas)
	}
	return i.c.Unwrap(i.files, stanzas)
}
