package store

import (
	"bufio"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// A plaintext buffer of 2 MiB or more is marked for transparent huge
// pages: the "hg" flag (MADV_HUGEPAGE) of its mapping in /proc/self/smaps.
func TestPlainBufferHugePages(t *testing.T) {
	for _, n := range []int64{4 << 20, 64 << 10} {
		if b := plainBuffer(n); int64(len(b)) != n {
			t.Fatalf("plainBuffer(%d) has %d bytes", n, len(b))
		}
	}
	if thp, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || strings.Contains(string(thp), "[never]") {
		t.Skip("no transparent huge pages on this system")
	}
	big := plainBuffer(4 << 20)
	if flags := vmFlags(t, reflect.ValueOf(big).Pointer()); !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the mapping of a 4 MiB buffer has flags %q; want hg (MADV_HUGEPAGE)", flags)
	}
}

// vmFlags returns the VmFlags of the mapping of this process that holds
// addr.
func vmFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := strings.Cut(strings.Fields(line)[0], "-"); ok {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				in = uint64(addr) >= l && uint64(addr) < h
				continue
			}
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:"))
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}
