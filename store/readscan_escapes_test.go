package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The read-back's scan against the decoder on documents hush does not
// write but could read: strings with any escape JSON has, \u escapes of
// every kind (surrogate pairs, lone halves), in names and values; names
// that are prefixes of others, and a wanted name as a value elsewhere.
// Where the decoder reads the document, the scan finds what it finds;
// where the decoder refuses a wanted entry's value, the scan fails too.
// The seed is fixed and logged.
func TestDocScannerEscapes(t *testing.T) {
	const seed = 421
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed))
	pieces := []string{`a`, `A`, `é`, `€`, `😀`, `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`,
		`\u0041`, `\u00e9`, `\u20AC`, `\ud83d\ude00`, `\uD83D\uDE00`, `\u0000`, `\u001f`, `\"x\":\"`, `}`, `{`, `,`, `:`,
		`\ud800`, `\udc00`, `\ud800\ud800\udc00`, `\ud800\u0041`}
	str := func(valid bool) string {
		var b strings.Builder
		for range r.IntN(6) {
			p := pieces[r.IntN(len(pieces))]
			if valid && strings.HasPrefix(p, `\ud800`) || valid && p == `\udc00` {
				continue
			}
			b.WriteString(p)
		}
		return b.String()
	}
	base := []string{"A", "AB", "ABC", "B", "K", "K_1", "V"}
	for iter := range 3000 {
		valid := iter%2 == 0
		names := slices.Clone(base)
		var doc strings.Builder
		doc.WriteString(`{"version":1,"recipients":["A","entries"],"entries":{`)
		for i, n := range names {
			if i > 0 {
				doc.WriteString(",")
			}
			v := str(valid)
			if r.IntN(5) == 0 {
				v = "A" // a wanted name as a value
			}
			fmt.Fprintf(&doc, `"%s":{"value":"%s","description":"%s","created":"0001-01-01T00:00:00Z","updated":"0001-01-01T00:00:00Z"}`, n, v, str(true))
		}
		doc.WriteString(`},"store_key":"wGOVBTQzjGX9xgxLQGXBXEgV6HWCDiFI1ZLLBngmZUU="}`)
		plain := []byte(doc.String())
		ask := []string{"A", "AB", "V", "ZZ", "AA"}
		dec, derr := decodeDocument(bytes.Clone(plain))
		var want [][]byte
		if derr == nil {
			var err error
			if want, err = (&docTx{doc: dec}).Values(ask); err != nil {
				t.Fatal(err)
			}
		}
		for _, piece := range []int{1, 5, len(plain)} {
			s := newDocScanner(ask)
			var err error
			for p := plain; len(p) > 0 && err == nil; p = p[min(piece, len(p)):] {
				err = s.feed(p[:min(piece, len(p))])
			}
			if err == nil {
				err = s.end()
			}
			switch {
			case derr == nil && err != nil:
				t.Fatalf("%s\npieces of %d: scan failed: %v; the decoder reads it", plain, piece, err)
			case derr == nil:
				for i := range ask {
					if !bytes.Equal(s.vals[i], want[i]) || (s.vals[i] == nil) != (want[i] == nil) {
						t.Fatalf("%s\npieces of %d: %s = %q; the decoder reads %q", plain, piece, ask[i], s.vals[i], want[i])
					}
				}
			case err == nil && !valid:
				// The decoder refused the document: if for a wanted
				// value, the scan must fail too.
				if wantedBad(plain, ask) {
					t.Fatalf("%s\npieces of %d: scan read %q; the decoder refuses the document: %v", plain, piece, s.vals, derr)
				}
			}
		}
	}
}

// wantedBad reports whether the value of an entry of ask in plain, as
// the test writes them, holds a lone surrogate escape.
func wantedBad(plain []byte, ask []string) bool {
	for _, n := range ask {
		i := bytes.Index(plain, []byte(`"`+n+`":{"value":"`))
		if i < 0 {
			continue
		}
		v := plain[i+len(n)+13:]
		v = v[:bytes.Index(v, []byte(`","description"`))]
		if bytes.Contains(v, []byte(`\ud800`)) || bytes.Contains(v, []byte(`\udc00`)) {
			return true
		}
	}
	return false
}
