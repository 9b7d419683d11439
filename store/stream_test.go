package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"filippo.io/age"
)

// decodeInPieces decodes b as decryptDocumentFrom does, the parser seeing
// a prefix that grows by piece bytes each time it asks for more.
func decodeInPieces(b []byte, piece int) (*document, error) {
	buf := bytes.Clone(b)
	n := 0
	p := &parser{more: func() (string, bool) {
		if n == len(buf) {
			return "", false
		}
		n = min(n+piece, len(buf))
		return unsafe.String(&buf[0], n), true
	}, sizeHint: len(buf)}
	return p.document()
}

// streamDocs are documents that exercise every path of the parser: the
// fast path for entries as hush writes them, the general one for anything
// else, and the switch between them at any byte.
func streamDocs(t testing.TB) map[string][]byte {
	docs := map[string][]byte{}
	for _, tc := range cpRefusals {
		docs["refused: "+tc.name] = []byte(tc.doc)
	}
	for i, p := range cpFixturePlaintexts(t) {
		docs[fmt.Sprintf("fixture %d", i)] = p
	}
	stamp := "2024-01-02T03:04:05.123456789Z"
	var hushWritten strings.Builder
	for i := range 300 {
		if i > 0 {
			hushWritten.WriteByte(',')
		}
		v := fmt.Sprintf("tok_%036d", i)
		switch i % 7 {
		case 1:
			v = "héllo wörld ✓ 🔑 " + v // multi-byte characters, cut at every byte below
		case 2:
			v = `quote \" backslash \\ newline \n ` + v
		case 3:
			v = "\u00e9t\u00e9 " + v
		}
		fmt.Fprintf(&hushWritten, `"N%05d":{"value":"%s"`, i, v)
		if i%5 == 0 {
			fmt.Fprintf(&hushWritten, `,"description":"entry %d"`, i)
		}
		if i%11 == 0 {
			stamp = fmt.Sprintf("2024-01-02T03:04:%02dZ", i%60)
		}
		fmt.Fprintf(&hushWritten, `,"created":"%s","updated":"%s"}`, stamp, stamp)
	}
	docs["as hush writes"] = []byte(cpDoc(hushWritten.String()))
	docs["base64 values"] = []byte(cpDoc(`"A":{"value":"/w==","encoding":"base64","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"},"B":{"value":"","encoding":"base64"},"C":{"value":"YWJj","encoding":"base64","description":"x"}`))
	docs["unsorted with offsets"] = []byte(cpDoc(`"B":{"value":"2","created":"2024-01-02T04:04:05+01:00","updated":"2024-01-02T03:04:05Z"},"A":{"value":"1","updated":"2024-01-02T03:04:05Z","created":"2024-01-02T03:04:05Z"}`))
	docs["unsorted duplicate"] = []byte(cpDoc(`"B":{"value":"2"},"A":{"value":"1"},"B":{"value":"3"}`))
	docs["pretty"] = []byte("{\n \"version\" : 1 ,\n \"recipients\" : [ \"age1x\" , \"age1y\" ] ,\n \"entries\" : {\n  \"A\" : { \"value\" : \"a\" } ,\n  \"B\" : { \"value\" : \"b\" , \"description\" : \"\\u00e9\" }\n }\n}\n")
	docs["nulls"] = []byte(`{"version":1,"recipients":null,"entries":null}`)
	docs["null split"] = []byte(`{"version":1,"recipients":nul,"entries":{}}`)
	docs["escaped name"] = []byte(cpDoc(`"\u0041":{"value":"x"},"B\u00e9":{"value":"y"}`))
	docs["invalid UTF-8 late"] = []byte(cpDoc(`"A":{"value":"` + strings.Repeat("é", 40) + "\xe9" + `"}`))
	docs["truncated rune"] = []byte(cpDoc(`"A":{"value":"` + "\xe2\x9c" + `"}`))
	docs["values with braces"] = []byte(cpDoc(`"A":{"value":"}"},"B":{"value":"},\"description\":\"x"}`))
	docs["description with braces"] = []byte(cpDoc(`"A":{"value":"x"},"B":{"value":"x","description":"}}"}`))
	docs["escape, then a multi-byte character"] = []byte(cpDoc(`"A":{"value":"\"é"}`))
	docs["escaped surrogate pair"] = []byte(cpDoc(`"A":{"value":"\"\ud83d\udd11"}`))
	docs["name too long after clean"] = []byte(cpDoc(`"` + strings.Repeat("é", 200) + `":{"value":"x"}`))
	return docs
}

// The parser decodes a document it receives in pieces, as the decryption
// produces it, exactly as it decodes the whole: the same document, or the
// same error, for pieces of every size from one byte, which cut every
// string, escape, rune and literal at every position.
func TestDecodeInPieces(t *testing.T) {
	for name, doc := range streamDocs(t) {
		want, wantErr := decodeDocument(bytes.Clone(doc))
		pieces := []int{1, 2, 3, 5, 7, 16, 61, 1000, 64 << 10}
		if len(doc) <= 1024 { // small enough to try every size
			pieces = pieces[:0]
			for n := 1; n <= len(doc); n++ {
				pieces = append(pieces, n)
			}
		}
		for _, piece := range pieces {
			got, err := decodeInPieces(doc, piece)
			if !sameDecode(want, wantErr, got, err) {
				t.Fatalf("%s in pieces of %d: got %v, %v; whole: %v, %v", name, piece, got != nil, err, want != nil, wantErr)
			}
		}
	}
}

// sameDecode reports whether two decodes agree: the same error text, or
// documents with the same version, recipients and entries.
func sameDecode(a *document, aerr error, b *document, berr error) bool {
	if aerr != nil || berr != nil {
		return aerr != nil && berr != nil && aerr.Error() == berr.Error()
	}
	return a.Version == b.Version && cpSameSnapshot(a.snapshot(false), b.snapshot(false)) &&
		bytes.Equal(encodeDocument(a), encodeDocument(b))
}

// A store file is decoded the same whether it fits in one age chunk
// (decrypted, then decoded) or not (decoded while it is decrypted, here
// with the first chunk boundary inside the document), and a document
// error in a store that decrypts is reported as a *DecryptError.
func TestDecryptDocumentPaths(t *testing.T) {
	overlapping(t)
	id := cpX25519(t)
	ids := []age.Identity{id}
	const pad = overlapAbove - 136 // spaces before the document; a chunk boundary falls 136 bytes into it
	atByte := regexp.MustCompile(`at byte (\d+)`)
	for name, doc := range streamDocs(t) {
		want, wantErr := decodeDocument(bytes.Clone(doc))
		for _, big := range []bool{false, true} {
			plain, wantMsg := doc, ""
			if wantErr != nil {
				wantMsg = wantErr.Error()
			}
			if big {
				plain = append(bytes.Repeat([]byte(" "), pad), doc...)
				wantMsg = atByte.ReplaceAllStringFunc(wantMsg, func(s string) string {
					n, _ := strconv.Atoi(s[len("at byte "):])
					return fmt.Sprintf("at byte %d", n+pad)
				})
				if len(doc) == 0 {
					wantMsg = "store: malformed document: empty document"
				}
			}
			ct := cpEncrypt(t, plain, id.Recipient())
			if big != (len(ct) > overlapAbove) {
				t.Fatalf("%s: %d bytes is not on the intended side of one chunk", name, len(ct))
			}
			got, _, err := decryptDocument(ct, ids)
			var de *DecryptError
			if wantErr != nil && (got != nil || !errors.As(err, &de) || !strings.HasSuffix(err.Error(), wantMsg)) {
				t.Fatalf("%s (big %v): %v; want a *DecryptError saying %q", name, big, err, wantMsg)
			}
			if wantErr == nil && !sameDecode(want, nil, got, err) {
				t.Fatalf("%s (big %v): got %v; want the document", name, big, err)
			}
		}
	}
}

// A decryption failure after the first chunk wins over the document
// error the parser may meet first, and over a document that parsed: the
// plaintext is used only once the whole file is authentic.
func TestDecryptErrorWins(t *testing.T) {
	overlapping(t)
	id := cpX25519(t)
	big := strings.Repeat("x", overlapAbove+100<<10)
	for name, doc := range map[string]string{
		"good document":    cpDoc(`"A":{"value":"` + big + `"}`),
		"bad early":        `{"version":1,"bogus":"` + big + `"}`,
		"bad at the start": `[` + big,
	} {
		ct := cpEncrypt(t, []byte(doc), id.Recipient())
		ct[len(ct)-100] ^= 1 // in the last chunk
		d, _, err := decryptDocument(ct, []age.Identity{id})
		var de *DecryptError
		if d != nil || !errors.As(err, &de) || strings.Contains(err.Error(), "malformed") {
			t.Fatalf("%s: %v, %v; want the decryption error", name, d != nil, err)
		}
	}
}

// The first read of a store large enough for decoding to overlap
// decryption goes through the file as well as through memory.
func TestBigStoreFirstRead(t *testing.T) {
	overlapping(t)
	ctx := context.Background()
	id := cpX25519(t)
	p := cpPath(t)
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
	if fi, err := os.Stat(p); err != nil || fi.Size() <= overlapAbove {
		t.Fatalf("the store is not over %d bytes: %v, %v", overlapAbove, fi, err)
	}
	g := cpOpen(t, p, Options{Identities: []age.Identity{id}})
	for _, i := range []int{0, 1499, 2999} {
		v, err := g.Get(ctx, fmt.Sprintf("K%05d", i))
		if err != nil || string(v) != fmt.Sprintf("v%d-%s-%s", i, now, pad) {
			t.Fatalf("K%05d = %q, %v", i, v, err)
		}
	}
}

// overlapping makes sure a large store is decoded while it is decrypted
// for the rest of the test: that takes more than one CPU for Go.
func overlapping(t *testing.T) {
	if n := runtime.GOMAXPROCS(0); n < 2 {
		runtime.GOMAXPROCS(2)
		t.Cleanup(func() { runtime.GOMAXPROCS(n) })
	}
}
