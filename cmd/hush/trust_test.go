package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestDiffLines: removals then additions, each in its list's order, names
// in both lists silent; at 100,000 names on each side (one pass, not one
// scan of the other list per name: a trust of a big store must not stall).
func TestDiffLines(t *testing.T) {
	var b strings.Builder
	n := diffLines(&b, "name", []string{"A", "B", "C"}, []string{"C", "D", "A"})
	want := "  - name B\n  + name D\n"
	if n != 2 || b.String() != want {
		t.Fatalf("diffLines = %d, %q; want 2, %q", n, b.String(), want)
	}

	old := make([]string, 100_000)
	now := make([]string, 100_000)
	for i := range old {
		old[i] = fmt.Sprintf("SECRET_%06d", i)
		now[i] = fmt.Sprintf("SECRET_%06d", i+1)
	}
	b.Reset()
	if n := diffLines(&b, "name", old, now); n != 2 || b.String() != "  - name SECRET_000000\n  + name SECRET_100000\n" {
		t.Fatalf("diffLines of 100,000 names = %d, %q", n, b.String())
	}
}
