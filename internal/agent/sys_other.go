//go:build !linux

package agent

import (
	"errors"
	"net"
	"runtime"
)

var errUnsupported = errors.New("agent: peer credentials and PR_SET_DUMPABLE are only implemented on linux, not " + runtime.GOOS)

// peerUID fails off Linux: the agent refuses every connection there.
func peerUID(*net.UnixConn) (int, error) { return 0, errUnsupported }

// Harden fails off Linux, so no agent starts there.
func Harden() error { return errUnsupported }

func hardening() (bool, uint64) { return true, ^uint64(0) }
