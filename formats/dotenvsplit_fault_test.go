package formats

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"

	"github.com/hush-secrets/hush/internal/testkit"
)

// A memory fault in the first half of a split parse (a mapped file cut
// short) is the caller's panic only once the second half's goroutine has
// ended: none reads the data after the call, which the caller unmaps as
// soon as it has recovered. Here the first half's parser runs into a page
// that faults, in a quoted value that spans the middle; with one CPU, the
// second half's goroutine has not run yet when it does.
func TestParseSplitFaultJoins(t *testing.T) {
	const page = 4096
	var text []byte
	for i := 0; len(text) < 500<<10; i++ {
		text = fmt.Appendf(text, "K%07d=v\n", i)
	}
	text = append(text, "Q=\""...)
	for len(text) < 700<<10 {
		text = append(text, "quoted value over many lines\n"...)
	}
	text = append(text, "\"\n"...)
	for i := 0; len(text) < 1200<<10; i++ {
		text = fmt.Appendf(text, "R%07d=v\n", i)
	}
	split := len(text)/2 + bytes.IndexByte(text[len(text)/2:], '\n') + 1
	size := (len(text) + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Skip(err)
	}
	defer syscall.Munmap(mem)
	copy(mem, text)
	data := mem[:len(text)]
	// A page of the quoted value past the middle faults: the first half's
	// parser reads it, and the second half's too.
	at := (split/page + 4) * page
	if err := syscall.Mprotect(mem[at:at+page], syscall.PROT_NONE); err != nil {
		t.Skip(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for range 5 { // once in a while the second half runs first
		func() {
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			defer func() {
				if r := recover(); r == nil {
					t.Error("a split parse of data that faults did not panic")
				}
			}()
			parseSplit(data)
		}()
		if w := testkit.Working("formats.parseSplit"); len(w) > 0 {
			t.Fatalf("the split parse panicked with its second half's goroutine still running:\n%s", strings.Join(w, "\n\n"))
		}
	}
}
