package main

import (
	"math"
	"runtime/debug"
)

// importHeapPerByte bounds the heap an import builds per byte of its
// input: the input itself, the parsed secrets, the new entries and their
// values, and the lists of the report (about 8 bytes a byte for a dotenv
// file of short values), with room to spare.
const importHeapPerByte = 16

// importGC sets the garbage collector for an import of size bytes of
// input and returns the function that restores it as it was before the
// first call: a second call, once the input's size is known, only sets
// the limit again.
//
// An import keeps nearly everything it allocates live until the store is
// written: the input, the secrets parsed from it, the new entries. A
// collection in between frees almost nothing and costs a scan of a heap
// that only grows (at 100,000 entries, three cycles and a fifth of the
// process's CPU). So the collector waits for a memory limit instead of
// the heap's doubling: 64 MiB plus importHeapPerByte bytes for each byte
// of input, twice what the import is expected to hold, which is the room
// the default (GOGC=100) leaves too. The limit is soft: past it the
// collector runs as usual. GOGC or GOMEMLIMIT in the environment, a
// user's choice, leave the collector as they set it.
func (a *app) importGC(size int) (restore func()) {
	if a.getenv("GOGC") != "" || a.getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	limit := int64(64<<20) + importHeapPerByte*int64(size)
	if limit < 0 || size > math.MaxInt64/(2*importHeapPerByte) {
		limit = math.MaxInt64
	}
	oldLimit := debug.SetMemoryLimit(limit)
	oldPercent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}
}
