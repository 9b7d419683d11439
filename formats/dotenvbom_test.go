package formats

import (
	"fmt"
	"testing"
)

// One byte order mark is dropped, as before, and only one: a second one
// starts the first line, which is then no assignment. ParseDotenvBytes
// (hush exec --env-file) and ParseDotenvLists (hush import) agree.
func TestDotenvOneByteOrderMark(t *testing.T) {
	const bom = "\xef\xbb\xbf"
	for _, in := range []string{bom + "A=1\n", bom + bom + "A=1\n"} {
		secrets, err := ParseDotenvBytes([]byte(in))
		names, _, lerr := ParseDotenvLists([]byte(in))
		if fmt.Sprint(err) != fmt.Sprint(lerr) || len(secrets) != len(names) {
			t.Errorf("%q: ParseDotenvBytes %d secrets, %v; ParseDotenvLists %d, %v", in, len(secrets), err, len(names), lerr)
		}
		if wantErr := in != bom+"A=1\n"; (err != nil) != wantErr {
			t.Errorf("%q: error %v, want one: %v", in, err, wantErr)
		}
	}
}
