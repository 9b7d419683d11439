package testkit

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

//go:noinline
func waitIn(c chan struct{}) { <-c }

func busyWorker(started, c chan struct{}) {
	started <- struct{}{}
	waitIn(c)
}

func idleWorker(started, c chan struct{}) {
	started <- struct{}{}
	<-c
}

func startIdle(started, c chan struct{}) {
	go func() {
		started <- struct{}{}
		<-c
	}()
}

func TestWorking(t *testing.T) {
	started, c := make(chan struct{}), make(chan struct{})
	defer close(c)
	go busyWorker(started, c)
	go idleWorker(started, c)
	<-started
	<-started
	for deadline := time.Now().Add(5 * time.Second); len(Working("testkit.busyWorker")) != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("a goroutine blocked in a function that busyWorker called is not working: %q", Working("testkit.busyWorker"))
		}
		time.Sleep(time.Millisecond)
	}
	if w := Working("testkit.idleWorker"); len(w) != 0 {
		t.Errorf("a goroutine blocked on a channel in idleWorker itself is working: %q", w)
	}
	// With one thread, a goroutine just started has not run when the
	// caller asks (unless the thread was preempted meanwhile: a machine
	// under load is given a few tries).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for try := 1; ; try++ {
		startIdle(started, c)
		w := Working("testkit.startIdle")
		<-started
		if len(w) == 1 {
			break
		}
		if try == 10 {
			t.Fatalf("a goroutine that has not run yet is not working: %q", w)
		}
	}
	if w := Working("testkit.TestWorking"); len(w) != 0 {
		t.Errorf("the caller's own goroutine, or a goroutine it created, counts: %q", w)
	}
}

// Under GOTRACEBACK=system the runtime's own frames are in the traces: a
// goroutine closing a channel in fn is still not working.
func TestWorkingInRuntimeFrames(t *testing.T) {
	const closing = `goroutine 8 [running]:
runtime.closechan(0xc000020180)
	/usr/lib/go/src/runtime/chan.go:397 +0x1a
example.org/p.f.func1()
	/src/p/p.go:12 +0x55
created by example.org/p.f in goroutine 1
	/src/p/p.go:10 +0x3c`
	const hashing = `goroutine 9 [running]:
crypto/sha256.block(0xc000020180)
	/usr/lib/go/src/crypto/sha256/sha256block.go:10 +0x1a
runtime.morestack()
	/usr/lib/go/src/runtime/asm_amd64.s:621 +0x1a
example.org/p.f.func1()
	/src/p/p.go:12 +0x55
created by example.org/p.f in goroutine 1
	/src/p/p.go:10 +0x3c`
	if workingIn(closing, "p.f") {
		t.Error("a goroutine closing a channel is working")
	}
	if !workingIn(hashing, "p.f") {
		t.Error("a goroutine hashing is not working")
	}
	if workingIn(strings.Replace(hashing, "p.f.func1()", "p.h()", 1), "p.f") {
		t.Error("a goroutine that p.f created, running p.h, is working in p.f")
	}
}
