package formats

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// parseAlone parses data in one piece, as a small file is.
func parseAlone(data []byte) ([]Secret, error) {
	p := &dotenvParser{data: data, line: 1, presize: 16}
	l, err := p.parse()
	if err != nil {
		return nil, err
	}
	out := make([]Secret, l.len())
	for i := range out {
		out[i] = Secret{l.names[i], l.values[i]}
	}
	return out, nil
}

// A big file parsed in two halves gives exactly what one parse gives: the
// secrets, or the first error with its line; whether the middle falls in
// a quoted value, the names come out of order, or one is given twice.
func TestParseDotenvSplit(t *testing.T) {
	lines := func(n int, f func(i int) string) []string {
		var ls []string
		for i := range n {
			ls = append(ls, f(i))
		}
		return ls
	}
	sorted := lines(40000, func(i int) string { return fmt.Sprintf("K%06d=%s", i, strings.Repeat("v", 24)) })
	mid := len(sorted) / 2
	with := func(at int, l ...string) []string {
		out := append([]string{}, sorted[:at]...)
		return append(append(out, l...), sorted[at:]...)
	}
	spanning := func() []string { // a quoted value of many lines across the middle
		out := append([]string{}, sorted[:mid-10]...)
		// Its lines read as assignments in order: the second half,
		// started in it, parses.
		q := lines(4000, func(i int) string { return fmt.Sprintf("K019989_R%05d=x", i) })
		out = append(out, "K019989_Q='"+strings.Join(q, "\n")+"'")
		return append(out, sorted[mid-10:]...)
	}
	// Two halves each in order, the second's names from the first's:
	// the middle falls after the line of sorted[mid].
	twiceAtMiddle := append(append(append([]string{}, sorted[:mid]...), sorted[mid]), sorted[5:5+mid-1]...)
	cases := map[string][]string{
		"sorted":           sorted,
		"comments":         with(mid+5, "# a comment", "", "   "),
		"comments first":   with(100, "# a comment", "", "   "),
		"spanning":         spanning(),
		"out of order":     with(mid+100, "A_FIRST=x"),
		"twice across":     with(mid+100, sorted[10]),
		"twice in second":  with(mid+100, sorted[mid+50]),
		"bad in second":    with(mid+100, "not an assignment"),
		"bad in first":     with(100, "not an assignment"),
		"first out":        with(100, "A_FIRST=x"),
		"halves out":       append(append([]string{}, sorted[mid:]...), sorted[:mid]...),
		"quote at the end": with(len(sorted), `Z="unclosed`),
		"twice at middle":  twiceAtMiddle,
		// Long lines, then many short ones: more secrets in the second
		// half than room for them after the first's.
		"second half longer": lines(30000, func(i int) string {
			if i < 1000 {
				return fmt.Sprintf("A%06d=%s", i, strings.Repeat("v", 800))
			}
			return fmt.Sprintf("B%06d=v", i)
		}),
	}
	for name, ls := range cases {
		data := []byte(strings.Join(ls, "\n") + "\n")
		if len(data) < splitMin {
			t.Fatalf("%s: %d bytes, under splitMin", name, len(data))
		}
		got, err := ParseDotenvBytes(data)
		want, wantErr := parseAlone(data)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("%s: parsed in halves, error %v; alone %v", name, err, wantErr)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: parsed in halves, %d secrets; alone %d, or they differ", name, len(got), len(want))
		}
	}
}
