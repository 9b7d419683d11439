package main

import (
	"slices"
	"testing"
)

// TestParseInjectedStderr: strace's when= counts per thread, so one run
// can fail both the temp file's write and the write of the diagnostic to
// stderr (CI saw exactly that); the stderr write must be told apart, or
// the run is blamed for a missing "hush:" line it could not print.
func TestParseInjectedStderr(t *testing.T) {
	f := &fixture{s: &suite{root: "/suite"}, dir: "/suite/s/store", path: "/suite/s/store/store.age", idPath: "/suite/s/id"}
	log := "101 write(3</suite/s/store/.store.age.tmp-1a2b>, \"age-encryption.org/v1\\n\"..., 4096) = -1 EIO (Input/output error) (INJECTED)\n" +
		"102 write(2<pipe:[4242]>, \"hush: write store\"..., 40 <unfinished ...>\n" +
		"102 <... write resumed>) = -1 EIO (Input/output error) (INJECTED)\n" +
		"103 write(7<pipe:[77]>, \"\\0\", 1) = -1 EIO (Input/output error) (INJECTED)\n"
	got, after := parseInjected([]byte(log), f)
	want := []string{"write temp file", "other write stderr", "other write pipe"}
	if !slices.Equal(got, want) || after {
		t.Fatalf("parseInjected = %q, afterRename %v; want %q, false", got, after, want)
	}
}
