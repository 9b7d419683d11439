package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/testkit"
)

// chunk is the size of an age payload chunk.
const chunk = 64 << 10

// A store file decodes as its plaintext does, whether the plaintext fits
// in one age chunk or spans several, and a document error in a store that
// decrypts is reported as a *DecryptError with the document's reason.
func TestDecryptDocumentPaths(t *testing.T) {
	id := newX25519(t)
	ids := []age.Identity{id}
	docs := map[string][]byte{}
	for _, v := range refusalVectors(t) {
		docs["refused: "+v.name] = v.doc
	}
	for i, p := range fixturePlaintexts(t) {
		docs[fmt.Sprintf("fixture %d", i)] = p
	}
	var many strings.Builder
	for i := range 2000 {
		if i > 0 {
			many.WriteByte(',')
		}
		fmt.Fprintf(&many, `"N%05d":{"value":"tok_%036d","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"}`, i, i)
	}
	docs["several chunks as hush writes"] = []byte(docWithEntries(many.String()))
	const pad = chunk - 136 // spaces before the document; a chunk boundary falls 136 bytes into it
	atByte := regexp.MustCompile(`at byte (\d+)`)
	for name, doc := range docs {
		want, wantErr := decodeDocument(bytes.Clone(doc))
		for _, padded := range []bool{false, true} {
			plain, wantMsg := doc, ""
			if wantErr != nil {
				wantMsg = wantErr.Error()
			}
			if padded {
				plain = append(bytes.Repeat([]byte(" "), pad), doc...)
				wantMsg = atByte.ReplaceAllStringFunc(wantMsg, func(s string) string {
					n, _ := strconv.Atoi(s[len("at byte "):])
					return fmt.Sprintf("at byte %d", n+pad)
				})
			}
			got, _, err := decryptDocument(testkit.Encrypt(t, plain, id.Recipient()), ids)
			var de *DecryptError
			if wantErr != nil && (got != nil || !errors.As(err, &de) || !strings.HasSuffix(err.Error(), wantMsg)) {
				t.Fatalf("%s (padded %v): %v; want a *DecryptError saying %q", name, padded, err, wantMsg)
			}
			if wantErr == nil && (err != nil || !bytes.Equal(encodeDoc(t, got), encodeDoc(t, want))) {
				t.Fatalf("%s (padded %v): got %v; want the document", name, padded, err)
			}
		}
	}
}

func encodeDoc(t *testing.T, d *document) []byte {
	t.Helper()
	b, err := d.marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A decryption failure after the first chunk wins over the document
// error in the chunks before, and over a document that would decode: the
// plaintext is used only once the whole file is authentic.
func TestDecryptErrorWins(t *testing.T) {
	id := newX25519(t)
	big := strings.Repeat("x", 3*chunk)
	for name, doc := range map[string]string{
		"good document":    docWithEntries(`"A":{"value":"` + big + `"}`),
		"bad early":        `{"version":1,"bogus":"` + big + `"}`,
		"bad at the start": `[` + big,
	} {
		ct := testkit.Encrypt(t, []byte(doc), id.Recipient())
		ct[len(ct)-100] ^= 1 // in the last chunk
		d, _, err := decryptDocument(ct, []age.Identity{id})
		var de *DecryptError
		if d != nil || !errors.As(err, &de) || !de.inPayload || strings.Contains(err.Error(), "malformed") {
			t.Fatalf("%s: %v, %v; want the decryption error", name, d != nil, err)
		}
	}
}

// The first read of a store of many chunks goes through the file as well
// as through memory.
func TestBigStoreFirstRead(t *testing.T) {
	ctx := context.Background()
	id := newX25519(t)
	p := tempStorePath(t)
	f, err := Create(ctx, p, []string{id.Recipient().String()}, Options{Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	pad := strings.Repeat("p", 400)
	err = f.Update(ctx, func(tx Tx) error {
		for i := range 3000 {
			if err := tx.Set(fmt.Sprintf("K%05d", i), []byte(fmt.Sprintf("v%d-%s-%s", i, now, pad))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Size() <= 1<<20 {
		t.Fatalf("the store is not over 1 MiB: %v, %v", fi, err)
	}
	g := mustOpen(t, p, Options{Identities: []age.Identity{id}})
	for _, i := range []int{0, 1499, 2999} {
		v, err := g.Get(ctx, fmt.Sprintf("K%05d", i))
		if err != nil || string(v) != fmt.Sprintf("v%d-%s-%s", i, now, pad) {
			t.Fatalf("K%05d = %q, %v", i, v, err)
		}
	}
}
