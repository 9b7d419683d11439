package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	agetest "c2sp.org/CCTV/age"
	"filippo.io/age"
)

// The read-back's scan (docScanner) against the decoder every read uses:
// for a document with every kind of entry hush writes (escapes in names
// and values, values that are not UTF-8 and so base64, descriptions, an
// empty value), fed in pieces of every size from one byte up, it finds
// exactly what docTx.Values finds in the decoded document, for names
// present and absent, repeated and out of order.
func TestDocScannerMatchesDecoder(t *testing.T) {
	d := newDocument([]string{"age1recipient", `weird "recipient"`})
	tx := &docTx{doc: d}
	var names []string
	add := func(name string, value []byte, desc string) {
		t.Helper()
		if err := tx.Set(name, value); err != nil {
			t.Fatal(err)
		}
		if desc != "" {
			if err := tx.SetDescription(name, desc); err != nil {
				t.Fatal(err)
			}
		}
		names = append(names, name)
	}
	add("A", []byte("plain"), "")
	add("EMPTY", []byte{}, "")
	add(`Q"UOTE`, []byte(`a "quoted" \ value {"value":"x"} },"`), `desc with "quotes" and }`)
	add(`BACK\SLASH`, []byte("tab\there\nnewline\r\x01\x1f ünï €"), "")
	add("BIN", []byte{0xff, 0x00, 0xfe, '"', '\\'}, "binary")
	add("LONG", bytes.Repeat([]byte("0123456789abcdef"), 10000), "")
	add("__hush_s_X", []byte("scoped"), "")
	for i := range 300 {
		add(fmt.Sprintf("K%04d", i), fmt.Appendf(nil, "v%d\"\\", i), "")
	}
	var plain bytes.Buffer
	if _, err := d.encodeTo(&plain); err != nil {
		t.Fatal(err)
	}
	dec, err := decodeDocument(slices.Clone(plain.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	ask := append(slices.Clone(names), "ABSENT", "K0150", "A", "zzz", "0", "K0001")
	slices.Reverse(ask[:20])
	sorted := slices.Sorted(slices.Values(ask)) // the scanner's own order, kept as it is
	for _, ask := range [][]string{ask, sorted} {
		scanLike(t, plain.Bytes(), dec, ask)
	}
	// A plaintext cut short is refused.
	s := newDocScanner(ask)
	if err := s.feed(plain.Bytes()[:plain.Len()-1]); err != nil {
		t.Fatal(err)
	}
	if s.end() == nil {
		t.Fatal("a document cut short scanned to the end")
	}
}

// scanLike checks that a docScanner fed plain in pieces of many sizes
// finds the values of ask that dec, plain decoded, holds.
func scanLike(t *testing.T, plain []byte, dec *document, ask []string) {
	t.Helper()
	want, err := (&docTx{doc: dec}).Values(ask)
	if err != nil {
		t.Fatal(err)
	}
	for _, piece := range []int{1, 2, 3, 7, 64, 1000, 1 << 16, len(plain)} {
		s := newDocScanner(ask)
		p := plain
		for len(p) > 0 {
			n := min(piece, len(p))
			if err := s.feed(p[:n]); err != nil {
				t.Fatalf("pieces of %d: %v", piece, err)
			}
			p = p[n:]
		}
		if err := s.end(); err != nil {
			t.Fatalf("pieces of %d: end: %v", piece, err)
		}
		for i, name := range ask {
			if !bytes.Equal(s.vals[i], want[i]) || (s.vals[i] == nil) != (want[i] == nil) {
				t.Fatalf("pieces of %d: %q = %q; the decoder reads %q", piece, name, s.vals[i], want[i])
			}
		}
	}
}

// openPlain against decryptPlain on age's community test vectors: the
// same outcome (see cctvOutcome), all or nothing, and on success the
// same plaintext, read in pieces of one chunk, two, and the whole file.
func TestOpenPlainCCTV(t *testing.T) {
	entries, err := fs.ReadDir(agetest.Vectors, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		v := cctvParse(t, e.Name())
		if len(v.file) > 1<<20 && testing.Short() {
			continue
		}
		plain, _, perr := decryptPlain(v.file, v.ids)
		for _, piece := range []int{encChunk, scanPiece, len(v.file)} {
			src := bytes.NewReader(v.file)
			var got []byte
			read, err := openPlain(src, int64(len(v.file)), v.ids)
			buf := make([]byte, piece)
			for err == nil {
				var n int
				n, err = read(buf)
				got = append(got, buf[:n]...)
			}
			if err == io.EOF {
				err = nil
			}
			if cctvOutcome(err) != cctvOutcome(perr) {
				t.Fatalf("%s, pieces of %d: %s (%v); decryptPlain: %s (%v)", v.name, piece, cctvOutcome(err), err, cctvOutcome(perr), perr)
			}
			if err == nil && sha256.Sum256(got) != sha256.Sum256(plain) {
				t.Fatalf("%s, pieces of %d: plaintext differs", v.name, piece)
			}
		}
	}
}

// The read-back of a store of many pieces of plaintext (see scanPiece),
// binary and armored: every value read back, and a byte flipped in any
// chunk of the file fails it with ErrDecrypt, leaving the store as it was.
func TestReadBackBigStore(t *testing.T) {
	ctx := context.Background()
	for _, armored := range []bool{false, true} {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "store.age")
		f, err := Create(ctx, p, []string{id.Recipient().String()}, Options{Identities: []age.Identity{id}, Armor: armored})
		if err != nil {
			t.Fatal(err)
		}
		const n = 6000
		names, values := make([]string, n), make([][]byte, n)
		for i := range n {
			names[i] = fmt.Sprintf("KEY_%05d", i)
		}
		round := 0
		readBack := func(flip int64) error {
			round++ // new values: a batch that changes nothing reads nothing back
			for i := range values {
				values[i] = fmt.Appendf(values[i][:0], "%d-%s", round, bytes.Repeat(fmt.Appendf(nil, "%d", i), 60))
			}
			return f.Update(ctx, func(tx Tx) error {
				if err := TxSetMany(tx, names, values); err != nil {
					return err
				}
				TxReadBack(tx, func(vals func([]string) ([][]byte, error)) error {
					if flip >= 0 {
						tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".store.age.tmp-*"))
						for _, tmp := range tmps {
							b, _ := os.ReadFile(tmp)
							b[flip%int64(len(b))] ^= 1
							os.WriteFile(tmp, b, 0o600)
						}
					}
					got, err := vals(append([]string{"NONE"}, names...))
					if err != nil {
						return err
					}
					if got[0] != nil {
						return errors.New("NONE read back")
					}
					for i := range names {
						if !bytes.Equal(got[i+1], values[i]) {
							return fmt.Errorf("%s read back %q", names[i], got[i+1])
						}
					}
					return nil
				})
				return nil
			})
		}
		if err := readBack(-1); err != nil {
			t.Fatalf("armored %v: %v", armored, err)
		}
		before, _ := os.ReadFile(p)
		size := int64(len(before))
		for _, at := range []int64{size / 3, size / 2, size - 40} {
			err := readBack(at)
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("armored %v: byte %d of %d flipped: %v; want ErrDecrypt", armored, at, size, err)
			}
			if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
				t.Fatalf("armored %v: the store changed after a failed read-back", armored)
			}
		}
	}
}
