package agent

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// peerUID returns the uid of the process at the other end of c, as the
// kernel recorded it when the connection was made (SO_PEERCRED).
func peerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if cerr != nil {
		return 0, fmt.Errorf("reading peer credentials: %w", cerr)
	}
	return int(cred.Uid), nil
}

// Harden makes the calling process unfit to leak what it holds: no core
// dumps (RLIMIT_CORE 0) and not dumpable (PR_SET_DUMPABLE 0), which also
// keeps other processes of the same user from attaching with ptrace or
// reading its memory through /proc. An agent calls it before it reads a
// passphrase. It returns the first failure.
func Harden() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("agent: setting RLIMIT_CORE to 0: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("agent: prctl(PR_SET_DUMPABLE, 0): %w", err)
	}
	return nil
}

// hardening reports whether the process is dumpable and its core limit.
func hardening() (dumpable bool, core uint64) {
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	dumpable = err != nil || d != 0
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
		return dumpable, ^uint64(0)
	}
	return dumpable, lim.Cur
}
