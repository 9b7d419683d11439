package main

import (
	"strconv"
	"unicode/utf8"
)

// printable returns s as it may be written to a terminal: s itself if
// every rune is printable (strconv.IsPrint: letters, marks, numbers,
// punctuation, symbols and the ASCII space), else s quoted as a Go string,
// so that control characters and escape sequences, bidi controls and
// zero-width characters show as escapes instead of acting on the terminal
// or passing for other text. Names, descriptions and recipients come from
// a store that others may write; every text output prints them through
// this. (JSON output is escaped by encoding/json.)
func printable(s string) string {
	for i, r := range s {
		if r == utf8.RuneError && !isReplacementChar(s[i:]) || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// isReplacementChar reports whether s starts with an encoded U+FFFD, as
// opposed to an invalid byte that decodes as one.
func isReplacementChar(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return r == utf8.RuneError && n == 3
}
