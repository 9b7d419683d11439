package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// importGC turns the collector's doubling off for an import, under a
// limit that grows with the input, restores both as they were, and
// leaves them alone when the environment sets either.
func TestImportGC(t *testing.T) {
	env := map[string]string{}
	a := &app{getenv: func(k string) string { return env[k] }}
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	defer func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) }()

	restore := a.importGC(0)
	a.importGC(1 << 20)
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("during an import GOGC is %d, want off", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 64<<20+importHeapPerByte<<20 {
		t.Errorf("during an import of 1 MiB the memory limit is %d, want %d", l, 64<<20+importHeapPerByte<<20)
	}
	restore()
	if p, l := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1); p != 100 || l != math.MaxInt64 {
		t.Errorf("after an import GOGC is %d and the limit %d, want 100 and none", p, l)
	}
	debug.SetGCPercent(100)

	for _, k := range []string{"GOGC", "GOMEMLIMIT"} {
		env = map[string]string{k: "50"}
		restore := a.importGC(1 << 20)
		if p, l := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1); p != 100 || l != math.MaxInt64 {
			t.Errorf("with %s set, an import set GOGC %d and the limit %d; want them left alone", k, p, l)
		}
		debug.SetGCPercent(100)
		restore()
	}
}
