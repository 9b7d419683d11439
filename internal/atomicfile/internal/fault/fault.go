// Package fault holds atomicfile's one test seam: a hook called before
// each step of every write in the process. Go's internal rule lets only
// atomicfile (which calls Check) and atomicfiletest (which calls Set, and
// only under go test) import it, so no production code can arm a fault.
package fault

import "sync/atomic"

// Hook is called with the target's path and the step about to run; a
// non-nil return fails that step as if its system call had.
type Hook func(target, step string) error

var hook atomic.Pointer[Hook]

// Set installs h (nil removes the hook) and returns the hook it replaced.
func Set(h Hook) Hook {
	var old *Hook
	if h == nil {
		old = hook.Swap(nil)
	} else {
		old = hook.Swap(&h)
	}
	if old == nil {
		return nil
	}
	return *old
}

// Check runs the hook, if one is installed, for step of a write to target.
func Check(target, step string) error {
	if h := hook.Load(); h != nil {
		return (*h)(target, step)
	}
	return nil
}
