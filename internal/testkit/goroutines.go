package testkit

import (
	"runtime"
	"strings"
)

// Working returns the stacks of the goroutines, other than the caller's,
// that are running code called from a function whose name contains fn
// (such as "store.digestAside"), or that were started in such a function
// and have not run yet: fn is on the stack with a frame outside the
// runtime above it, or fn's frame is the only one and has not begun. A
// goroutine that has done its work and is only signalling that (closing a
// channel, sending on one) or exiting is not working, so a test can ask,
// the moment a call returns, whether a goroutine the call started is still
// doing anything or has yet to, which counting goroutines cannot tell.
func Working(fn string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var working []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // the caller's own goroutine comes first
		}
		if workingIn(g, fn) {
			working = append(working, g)
		}
	}
	return working
}

// workingIn reports whether the goroutine whose trace is g runs a function
// outside the runtime called, directly or not, from a function whose name
// contains fn, or is about to run fn from its first instruction.
func workingIn(g, fn string) bool {
	// lines[0] is "goroutine N [state]:"; then each frame is a function
	// line and a tab-indented file line, innermost first. The file line
	// ends in the offset of the frame's instruction in its function, left
	// out when it is the first (a goroutine that has not run yet) and for
	// a function inlined into its caller (its line ends in "(...)").
	lines := strings.Split(g, "\n")
	callee := false
	for i := 1; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "\t") || l == "" {
			continue
		}
		if strings.HasPrefix(l, "created by ") {
			return false
		}
		if strings.Contains(l, fn) {
			unstarted := i == 1 && !strings.HasSuffix(l, "(...)") && // not inlined
				i+1 < len(lines) && !strings.Contains(lines[i+1], " +0x")
			return callee || unstarted
		}
		if !strings.HasPrefix(l, "runtime.") && !strings.HasPrefix(l, "internal/runtime") {
			callee = true
		}
	}
	return false
}
