package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// row is one line of the final table: a measured figure, what it must be,
// and whether the guarantee held. Rows that only report a figure (lock
// wait percentiles, counts of kills per outcome) have expected "(report)"
// and are always ok.
type row struct {
	part     string // the part's name
	measure  string
	value    string
	expected string
	ok       bool
}

// report collects rows from every part. It is safe for concurrent use.
type report struct {
	mu   sync.Mutex
	rows []row
}

// check adds a row for a guarantee: ok says whether it held.
func (r *report) check(part string, measure string, value any, expected string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, row{part, measure, fmt.Sprint(value), expected, ok})
}

// equal adds a row that holds when got == want.
func (r *report) equal(part string, measure string, got, want int) {
	r.check(part, measure, got, fmt.Sprint(want), got == want)
}

// info adds a row that reports a figure without a guarantee.
func (r *report) info(part string, measure string, value any) {
	r.check(part, measure, value, "(report)", true)
}

// merge adds other's rows. With reportOnly they become reported figures:
// always ok, their expected value kept in brackets.
func (r *report) merge(other *report, reportOnly bool) {
	other.mu.Lock()
	rows := append([]row(nil), other.rows...)
	other.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range rows {
		if reportOnly && x.expected != "(report)" {
			x.expected = "(report; guarantee: " + x.expected + ")"
			x.ok = true
		}
		r.rows = append(r.rows, x)
	}
}

// failed reports whether any guarantee failed.
func (r *report) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.rows {
		if !x.ok {
			return true
		}
	}
	return false
}

// failures returns the rows whose guarantee failed.
func (r *report) failures() []row {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []row
	for _, x := range r.rows {
		if !x.ok {
			out = append(out, x)
		}
	}
	return out
}

// print writes the table grouped by part, the parts in the order they
// first reported (the suite order, as parts run one after another) and
// the rows of one part in the order in which they were added.
func (r *report) print(w io.Writer) { r.printParts(w, nil) }

// printParts writes the rows of the given parts (all if nil).
func (r *report) printParts(w io.Writer, only map[string]bool) {
	r.mu.Lock()
	var rows []row
	for _, x := range r.rows {
		if only == nil || only[x.part] {
			rows = append(rows, x)
		}
	}
	r.mu.Unlock()
	first := make(map[string]int)
	for i, x := range rows {
		if _, ok := first[x.part]; !ok {
			first[x.part] = i
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return first[rows[i].part] < first[rows[j].part] })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "part\tmeasure\tvalue\texpected\tok")
	var notes []string
	for _, x := range rows {
		ok := "ok"
		if !x.ok {
			ok = "FAIL"
		}
		v := x.value
		if len(v) > maxCell {
			notes = append(notes, x.value)
			v = fmt.Sprintf("see note %d", len(notes))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.part, x.measure, v, x.expected, ok)
	}
	tw.Flush()
	if len(notes) > 0 {
		fmt.Fprintln(w)
	}
	for i, n := range notes {
		fmt.Fprintf(w, "note %d: %s\n", i+1, n)
	}
}

// maxCell is the widest value printed in the table; longer values go to
// numbered notes under it.
const maxCell = 72

// percentile returns the p-th percentile (0-100) of ds by nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(p/100*float64(len(s))+0.5) - 1
	if k < 0 {
		k = 0
	}
	if k >= len(s) {
		k = len(s) - 1
	}
	return s[k]
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// joinMax joins up to n items and says how many more there were.
func joinMax(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:n], "; ") + fmt.Sprintf("; ... (%d more)", len(items)-n)
}
