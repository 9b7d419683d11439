//go:build !linux

package main

import (
	"errors"

	"golang.org/x/term"
)

// hiddenToEnd reports whether readNoEcho can read a whole input (all):
// off Linux it cannot, and --from-file - on a terminal echoes.
const hiddenToEnd = false

// readNoEcho reads one line from the terminal fd with echo off. Off Linux
// a paste is not detected: rest is always nil.
func readNoEcho(fd int, all bool, limit int) (data, rest []byte, err error) {
	if all {
		return nil, nil, errors.New("reading a whole input without echo needs linux")
	}
	b, err := term.ReadPassword(fd)
	return b, nil, err
}
