package format

import (
	"fmt"
	"testing"
	"time"
)

// benchDoc is a document of n entries as hush writes them, shaped like
// the store benchmarks' (a 40-byte token, a description on every tenth).
func benchDoc(n int) []byte {
	now := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)
	rs := make([]*Record, n)
	for i := range rs {
		rs[i] = &Record{Name: fmt.Sprintf("SERVICE_%05d_API_TOKEN", i), Value: fmt.Sprintf("tok_%036d", i), Created: now, Updated: now}
		if i%10 == 0 {
			rs[i].Description = "a description of " + rs[i].Name
		}
	}
	return Encode(Version, []string{"age1x"}, rs)
}

func BenchmarkDecode(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		doc := benchDoc(n)
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := Decode(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
