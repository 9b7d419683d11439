package store

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/testkit"
)

// The first read of a store allocates its plaintext once, plus the index
// of its entries: a binary store is decrypted straight into one buffer of
// the exact size (age's DecryptReaderAt), not streamed chunk by chunk into
// 64 KiB buffers that become garbage, and the ciphertext is never held
// whole. What a read allocates bounds what it adds to the peak RSS of a
// process (issue 21: 2x the plaintext + 16 MiB).
func TestFirstReadAllocations(t *testing.T) {
	id := newX25519(t)
	var b strings.Builder
	const n = 30_000
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"SECRET_%06d":{"value":"%032x","created":"2026-12-04T17:25:01Z","updated":"2026-12-04T17:25:01Z"}`, i, i)
	}
	plain := []byte(docWithEntries(b.String()))
	p := tempStorePath(t)
	if err := os.WriteFile(p, testkit.Encrypt(t, plain, id.Recipient()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var before, after runtime.MemStats
	for range 2 { // the first round warms up what is allocated once per process
		f := mustOpen(t, p, Options{Identities: []age.Identity{id}})
		runtime.GC()
		runtime.ReadMemStats(&before)
		v, err := f.Get(ctx, "SECRET_012345")
		runtime.ReadMemStats(&after)
		if err != nil || string(v) != fmt.Sprintf("%032x", 12345) {
			t.Fatalf("get = %q, %v", v, err)
		}
	}
	got := after.TotalAlloc - before.TotalAlloc
	// The plaintext, the index (under 50 bytes an entry) and 1 MiB for the
	// rest (age's one chunk buffer, the header, the identity).
	limit := uint64(len(plain)) + 50*n + 1<<20
	t.Logf("plaintext %d bytes; the first read allocated %d (limit %d)", len(plain), got, limit)
	if got > limit {
		t.Fatalf("the first read of a %d-byte plaintext allocated %d bytes; want at most %d", len(plain), got, limit)
	}
}
