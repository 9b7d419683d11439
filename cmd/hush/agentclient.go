package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/agent"
	"github.com/hush-secrets/hush/internal/inputfile"
	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/store"
)

// withAgent returns found with the identities that a running agent holds
// replaced by the agent: an identity source (a file, or HUSH_IDENTITY)
// whose name and content match what the agent unlocked is not asked for
// its passphrase again. When the agent holds every source, found's own
// identities are used only if the agent goes away mid-command; when it
// holds some, they follow the agent's.
//
// No agent (no XDG_RUNTIME_DIR, no socket) leaves found as it is. A
// socket that is not safe (another owner, loose permissions) or does not
// answer is ignored with a one-line warning.
func (a *app) withAgent(found *locate.Found) *locate.Found {
	return a.agentFor(found, false)
}

// agentFor is withAgent; with noWait, the agent runs no identity that may
// wait for a person (a plugin's touch or PIN), as completion needs.
func (a *app) agentFor(found *locate.Found, noWait bool) *locate.Found {
	sock, err := agent.SocketPath(a.getenv)
	if err != nil {
		return found
	}
	c, err := agent.Open(sock)
	if errors.Is(err, agent.ErrNotRunning) {
		return found
	}
	var st *agent.Status
	if err == nil {
		st, err = c.Status()
	}
	if err != nil {
		a.warnf("warning: ignoring the agent: %v", err)
		return found
	}
	refs, err := a.sourceRefs(found)
	if err != nil {
		return found // the files were read a moment ago; let the local identities report
	}
	var held []agent.Ref
	for _, r := range refs {
		if st.Holds(r) {
			held = append(held, r)
		}
	}
	if len(held) == 0 {
		return found
	}
	a.infof("identities from the agent (pid %d) for %d of %d source(s)", st.PID, len(held), len(refs))
	remote := c.Identity(held)
	if noWait {
		remote = c.IdentityNoWait(held)
	}
	id := &agentIdentity{a: a, remote: remote, pid: st.PID}
	ids := []age.Identity{id}
	if len(held) == len(refs) {
		id.local = found.Identities
	} else {
		ids = append(ids, found.Identities...)
	}
	return &locate.Found{Identities: ids, From: found.From, Paths: found.Paths}
}

// agentIdentity unwraps with the agent, and with local (which may prompt)
// only if the agent cannot be reached any more.
type agentIdentity struct {
	a      *app
	remote age.Identity
	local  []age.Identity
	pid    int // the agent's, for reports
	warned bool
}

func (i *agentIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	key, err := i.remote.Unwrap(stanzas)
	if !errors.Is(err, agent.ErrUnavailable) {
		return key, err
	}
	if !i.warned {
		i.warned = true
		i.a.warnf("warning: ignoring the agent: %v", err)
	}
	for _, id := range i.local {
		key, err := id.Unwrap(stanzas)
		if !errors.Is(err, age.ErrIncorrectIdentity) {
			return key, err
		}
	}
	return nil, age.ErrIncorrectIdentity
}

// sourceRefs names the identity sources of found as the agent knows them:
// HUSH_IDENTITY by its text, files by absolute path and content.
func (a *app) sourceRefs(found *locate.Found) ([]agent.Ref, error) {
	if found.From == "HUSH_IDENTITY" {
		return []agent.Ref{agent.RefOf("HUSH_IDENTITY", []byte(a.getenv("HUSH_IDENTITY")))}, nil
	}
	var refs []agent.Ref
	for _, p := range found.Paths {
		abs, data, err := a.readIdentitySource(p)
		if err != nil {
			return nil, err
		}
		refs = append(refs, agent.RefOf(abs, data))
		clear(data)
	}
	return refs, nil
}

// readIdentitySource reads the identity file p as package locate does
// (refused if group or others can read it, unless HUSH_ALLOW_INSECURE_PERMS
// is 1) and returns its absolute path and content. The caller clears it.
func (a *app) readIdentitySource(p string) (string, []byte, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", nil, err
	}
	f, fi, err := inputfile.Open(p)
	if err != nil {
		return "", nil, fmt.Errorf("identity file: %w", err)
	}
	defer f.Close()
	if !a.allowInsecure() {
		if err := store.CheckPermissions(p, fi); err != nil {
			return "", nil, err
		}
	}
	data, err := inputfile.Read(f, "identity file "+p, locate.MaxIdentityFileSize)
	if err != nil {
		return "", nil, err
	}
	return abs, data, nil
}
