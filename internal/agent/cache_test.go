package agent

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
)

// countingID counts the Unwrap calls of an identity: a hardware key's
// touches, or a plugin's runs.
type countingID struct {
	age.Identity
	n atomic.Int32
}

func (c *countingID) Unwrap(s []*age.Stanza) ([]byte, error) {
	c.n.Add(1)
	return c.Identity.Unwrap(s)
}

// TestUnwrapOncePerHeader: the agent unwraps one header (one version of a
// store) once per session, with any number of clients asking; a new header
// is unwrapped anew; a key it remembers is given only for the source that
// unwrapped it; and it forgets them all when it stops.
func TestUnwrapOncePerHeader(t *testing.T) {
	x, _ := age.GenerateX25519Identity()
	z, _ := age.GenerateX25519Identity()
	id := &countingID{Identity: x}
	ref := RefOf("/keys/plugin.txt", []byte("AGE-PLUGIN-TEST-1"))
	other := RefOf("/keys/other.txt", []byte("other"))
	path := filepath.Join(t.TempDir(), "hush", "agent.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Sources: []Source{{Ref: ref, Identities: []age.Identity{id}}, {Ref: other, Identities: []age.Identity{&countingID{Identity: z}}}}, IdleTimeout: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan string, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v1 := encryptTo(t, x.Recipient())
	var first []byte
	for i := range 3 {
		key, err := c.Unwrap([]Ref{ref}, v1)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = key
		} else if string(key) != string(first) {
			t.Fatal("a remembered key differs from the unwrapped one")
		}
	}
	if n := id.n.Load(); n != 1 {
		t.Fatalf("one header asked for three times: %d unwraps, want 1", n)
	}
	if _, err := c.Unwrap([]Ref{ref}, encryptTo(t, x.Recipient())); err != nil || id.n.Load() != 2 {
		t.Fatalf("a new header: %v, %d unwraps in all, want 2", err, id.n.Load())
	}
	// Another source the agent holds does not get what ref unwrapped: its
	// own identity runs (and fails here).
	if _, err := c.Unwrap([]Ref{other}, v1); err == nil {
		t.Fatal("a key remembered for one source was given for another")
	}
	// A header the identity does not match is not remembered as a match.
	y, _ := age.GenerateX25519Identity()
	foreign := encryptTo(t, y.Recipient())
	for range 2 {
		if _, err := c.Unwrap([]Ref{ref}, foreign); !errors.Is(err, age.ErrIncorrectIdentity) {
			t.Fatalf("foreign header: %v", err)
		}
	}
	cancel()
	<-done
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.keys) != 0 {
		t.Fatalf("the agent still holds %d file keys after it stopped", len(srv.keys))
	}
}
