package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

// digestAside returns the SHA-256 of the whole file, from its start,
// whatever its size and whatever else reads the descriptor meanwhile;
// from the state, without reading, when the state names the file.
func TestDigestAside(t *testing.T) {
	for _, size := range []int64{1, digestAsideMin - 1, digestAsideMin, 3*digestAsideMin + 17} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			b := make([]byte, size)
			rand.Read(b)
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			fi, _ := fh.Stat()
			digest := digestAside(nil, fh, idOf(fi), size)
			// a decryption reads the same descriptor meanwhile
			got := make([]byte, 0, size)
			buf := make([]byte, 64<<10)
			for off := int64(0); off < size; off += int64(len(buf)) {
				n, _ := fh.ReadAt(buf, off)
				got = append(got, buf[:n]...)
			}
			sum, err := digest()
			if err != nil {
				t.Fatal(err)
			}
			if sum != sha256.Sum256(b) {
				t.Fatal("digestAside is not the file's SHA-256")
			}
			if !bytes.Equal(got, b) {
				t.Fatal("a read alongside the digest read other bytes")
			}
			st := &AcceptedState{last: idOf(fi), lastSum: [32]byte{1}}
			if sum, err := digestAside(st, fh, idOf(fi), size)(); err != nil || sum != st.lastSum {
				t.Fatalf("with the file in the state: %x, %v; want the state's digest", sum, err)
			}
		})
	}
}

// A big store (hashed alongside its decryption) copied into place is
// read by the client that wrote it as the version it wrote, and
// RecordReads records the copy's true digest.
func TestBigStoreCopyDigest(t *testing.T) {
	ctx := context.Background()
	id, _ := age.GenerateX25519Identity()
	path := filepath.Join(t.TempDir(), "store.age")
	opts := Options{Identities: []age.Identity{id}, StateDir: filepath.Join(t.TempDir(), "state")}
	b, _ := filledStore(t, path, id, opts, 30_000, 32)
	if len(b) < 2*digestAsideMin {
		t.Fatalf("the store is %d bytes: too small to be hashed aside", len(b))
	}
	if err := os.WriteFile(path+".copy", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".copy", path); err != nil {
		t.Fatal(err)
	}
	g, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := g.Get(ctx, "K012345"); err != nil || len(v) != 32 {
		t.Fatalf("get from the copy: %q, %v", v, err)
	}
	if err := g.RecordReads(); err != nil {
		t.Fatal(err)
	}
	st, err := g.loadState()
	if err != nil || st == nil {
		t.Fatalf("state: %v, %v", st, err)
	}
	fi, _ := os.Stat(path)
	if st.last != idOf(fi) || st.lastSum != sha256.Sum256(b) {
		t.Fatal("the state does not record the copy with its SHA-256")
	}
}

// filledStore creates a store at path, encrypted to id and opened with
// opts, holding n entries K000000, K000001, ... whose values are
// valueLen bytes each, in one write; it returns the store file's bytes
// and the names.
func filledStore(t *testing.T, path string, id *age.X25519Identity, opts Options, n, valueLen int) ([]byte, []string) {
	t.Helper()
	ctx := context.Background()
	f, err := Create(ctx, path, []string{id.Recipient().String()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	names, values := make([]string, n), make([][]byte, n)
	for i := range names {
		names[i], values[i] = fmt.Sprintf("K%06d", i), fmt.Appendf(nil, "%0*d", valueLen, i)
	}
	if err := f.Update(ctx, func(tx Tx) error { return TxSetMany(tx, names, values) }); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b, names
}
