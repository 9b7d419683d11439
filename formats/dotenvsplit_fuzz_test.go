package formats

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// Random big dotenv files, parsed in two halves, give exactly what one
// parse gives: the secrets, or the error. The constructs a split can land
// in (quoted values over many lines, comments, CRLF, "export ", a trailing
// backslash, NUL, invalid UTF-8, names twice or out of order) are put
// around the middle, where the split falls. The seed is fixed and logged.
func TestParseDotenvSplitRandom(t *testing.T) {
	const seed = 20261204
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed))
	specials := []func(name string) string{
		func(n string) string { return "# comment " + n + "='x\n" },
		func(n string) string { return n + "='multi\nline\n" + n + "_IN=x\nend'\n" },
		func(n string) string { return n + "=\"multi\\n\nline \\\"q\\\" \\x41\n" + n + "_IN=y\"\n" },
		func(n string) string { return n + "=value ends with backslash\\\n" },
		func(n string) string { return n + "=crlf\r\n" },
		func(n string) string { return "export " + n + "=exported\n" },
		func(n string) string { return "export\t" + n + " = 'spaced' # c\n" },
		func(n string) string { return n + "=nul\x00byte\n" },
		func(n string) string { return n + "=bad\xff\xfeutf8\n" },
		func(n string) string { return "\n   \n\t\n" },
		func(n string) string { return n + "=#not a comment #yes\n" },
		func(n string) string { return n + "=\n" },
		func(n string) string { return n + "='unclosed\n" },
		func(n string) string { return n + "=\"bad escape \\q\"\n" },
		func(n string) string { return "A_OUT_OF_ORDER=" + n + "\n" },
		func(n string) string { return "not an assignment\n" },
		func(n string) string { return n + "='a' trailing\n" },
	}
	failed := 0
	defer func() { t.Logf("%d of 120 files refused", failed) }()
	for iter := range 120 {
		var b bytes.Buffer
		k := 0
		name := func() string { k++; return fmt.Sprintf("K%07d", k) }
		target := 1<<20 + r.IntN(200<<10)
		mid := target / 2
		for b.Len() < target {
			near := b.Len() > mid-300 && b.Len() < mid+300
			switch {
			case near && r.IntN(3) == 0, r.IntN(400) == 0:
				// Around the middle, in one file of four, any special; else
				// the harmless ones, so that most files parse.
				s := specials[r.IntN(12)]
				if near && iter%4 == 0 {
					s = specials[r.IntN(len(specials))]
				}
				b.WriteString(s(name()))
			case near && iter%5 == 1 && r.IntN(20) == 0:
				fmt.Fprintf(&b, "K%07d=dup\n", 1+r.IntN(k)) // a name given before (or this one)
			default:
				fmt.Fprintf(&b, "%s=%s\n", name(), bytes.Repeat([]byte{'v'}, r.IntN(40)))
			}
		}
		data := b.Bytes()
		if iter%3 == 2 {
			// The line the second half starts at: its name made one
			// before the first half's last, given twice or not.
			at := len(data)/2 + bytes.IndexByte(data[len(data)/2:], '\n') + 1
			if bytes.HasPrefix(data[at:], []byte("K")) && len(data) > at+8 && data[at+8] == '=' {
				if r.IntN(2) == 0 {
					data[at] = 'J'
				} else {
					copy(data[at:at+8], fmt.Sprintf("K%07d", 1+r.IntN(k)))
				}
			}
		}
		if r.IntN(5) == 0 {
			data = bytes.TrimSuffix(data, []byte("\n")) // no final newline
		}
		names, values, err := ParseDotenvLists(bytes.Clone(data))
		want, wantErr := parseAlone(bytes.Clone(data))
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("iter %d: in halves error %v; alone %v", iter, err, wantErr)
		}
		if err != nil {
			failed++
			continue
		}
		got := make([]Secret, len(names))
		for i := range got {
			got[i] = Secret{names[i], values[i]}
		}
		if !reflect.DeepEqual(got, want) {
			for i := range min(len(got), len(want)) {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("iter %d: secret %d: in halves %q=%q, alone %q=%q", iter, i, got[i].Name, got[i].Value, want[i].Name, want[i].Value)
					break
				}
			}
			t.Fatalf("iter %d: in halves %d secrets, alone %d", iter, len(got), len(want))
		}
	}
}
