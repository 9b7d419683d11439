package store

import "syscall"

// plainBuffer returns a buffer of n bytes for a store's plaintext. A big
// one is marked for transparent huge pages (where the system allows them
// on request), so that filling it takes one page fault per 2 MiB instead
// of one per 4 KiB: on a 14 MiB plaintext that is most of what a
// first read costs beyond the decryption. The hint changes nothing else;
// its failure is ignored.
func plainBuffer(n int64) []byte {
	b := make([]byte, n)
	if n >= hugePage {
		_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
	}
	return b
}

// hugePage is the size of a transparent huge page on amd64 and arm64
// with 4 KiB pages.
const hugePage = 2 << 20
