package main

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// printTable prints res as two Markdown tables, the one docs/BENCHMARKS.md
// records: the medians and ratios of every row, then the peak RSS of get
// and set beside issue 21's limit. A row is "met" when its wall-clock
// ratio is at most its target.
func printTable(w io.Writer, res []sizeResult) {
	fmt.Fprintln(w, "| entries | command | floor | runs | hush (wall) | floor (wall) | ratio (wall) | hush (CPU) | floor (CPU) | ratio (CPU) | target | met |")
	fmt.Fprintln(w, "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, s := range res {
		for _, r := range s.rows {
			fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %.2fx | %s | %s | %.2fx | %.1fx | %s |\n",
				thousands(s.entries), r.command, r.against, r.runs,
				duration(r.hush.wall), duration(r.floor.wall), r.ratio(),
				duration(r.hush.cpu), duration(r.floor.cpu), r.cpuRatio(),
				r.target, yesNo(r.ratio() <= r.target))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| entries | plaintext | store file | get peak RSS | set peak RSS | limit (2x plaintext + 16 MiB) | met |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---|")
	for _, s := range res {
		get, set, limit := s.peakRSS("get"), s.peakRSS("set"), s.rssLimit()
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n",
			thousands(s.entries), bytesize(s.plaintext), bytesize(s.file),
			rss(get), rss(set), bytesize(limit), yesNo(get <= limit && set <= limit))
	}
}

// rss prints a peak RSS, or "-" for a row the table did not time.
func rss(n int64) string {
	if n == 0 {
		return "-"
	}
	return bytesize(n)
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// duration prints d in milliseconds with three significant digits or more.
func duration(d time.Duration) string {
	switch m := ms(d); {
	case m < 10:
		return fmt.Sprintf("%.2f ms", m)
	case m < 100:
		return fmt.Sprintf("%.1f ms", m)
	default:
		return fmt.Sprintf("%.0f ms", m)
	}
}

// bytesize prints n in B, KiB or MiB.
func bytesize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

// thousands prints n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
