package main

import "golang.org/x/sys/unix"

// harden keeps what the process holds out of core files: no core dumps
// (the soft RLIMIT_CORE set to 0) and not dumpable (PR_SET_DUMPABLE 0,
// which a core pattern piping to a program also obeys, and which bars
// ptrace and /proc/PID/mem to other processes of the same user). It is
// best effort: a failure leaves the process as it was. The function it
// returns puts the old core limit back, for exec(2) to hand the command
// the limit its caller gave (the kernel makes the new program dumpable).
func harden() (undo func()) {
	var old unix.Rlimit
	haveOld := unix.Getrlimit(unix.RLIMIT_CORE, &old) == nil
	if haveOld {
		unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: old.Max})
	}
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	return func() {
		if haveOld {
			unix.Setrlimit(unix.RLIMIT_CORE, &old)
		}
	}
}
