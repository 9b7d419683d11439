//go:build linux

package main

import (
	"bytes"
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// How long the terminal must stay quiet after the Enter that ends an
// answer before hush takes it as typed rather than pasted, and how long
// at most it waits for a paste to end.
const (
	pasteQuiet = 100 * time.Millisecond // one VTIME of 1 decisecond
	pasteMax   = 5 * time.Second
)

// hiddenToEnd reports whether readNoEcho can read a whole input (all).
const hiddenToEnd = true

// readNoEcho reads from the terminal fd with echo off (signals still
// raised by ^C). With all false it reads one line, the newline not
// included, and then takes in everything already waiting behind it (the
// rest of a paste) until the terminal has been quiet for pasteQuiet: that
// is rest, consumed so that no shell reads it after hush exits. With all
// true it reads to the end of input (^D on an empty line) or past limit
// bytes, and rest is nil. The terminal's settings are restored before it
// returns.
func readNoEcho(fd int, all bool, limit int) (data, rest []byte, err error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, nil, err
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	t := *old
	t.Lflag &^= unix.ECHO
	t.Lflag |= unix.ICANON | unix.ISIG
	t.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, nil, err
	}
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			clear(data)
			return nil, nil, err
		}
		if n == 0 { // end of input
			break
		}
		data = append(data, buf[:n]...)
		clear(buf[:n])
		if len(data) > limit {
			break
		}
		if !all {
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				rest = append(rest, data[i+1:]...)
				clear(data[i+1:])
				data = data[:i]
				break
			}
		}
	}
	if all {
		return data, nil, nil
	}
	if len(data) > limit {
		rest = append(rest, data[limit:]...) // a line that long was pasted
		clear(data[limit:])
		data = data[:limit]
	}
	data = bytes.TrimSuffix(data, []byte("\r"))
	more, err := drainInput(fd, &t)
	rest = append(rest, more...)
	clear(more)
	if err != nil {
		clear(data)
		clear(rest)
		return nil, nil, err
	}
	return data, rest, nil
}

// drainInput reads, without echo and without waiting for a newline,
// whatever arrives on the terminal until it has been quiet for pasteQuiet
// (at most pasteMax), and then discards anything still queued.
func drainInput(fd int, t *unix.Termios) ([]byte, error) {
	raw := *t
	raw.Lflag &^= unix.ICANON | unix.ECHO
	raw.Cc[unix.VMIN] = 0
	raw.Cc[unix.VTIME] = byte(pasteQuiet / (100 * time.Millisecond))
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	var got []byte
	buf := make([]byte, 4096)
	deadline := time.Now().Add(pasteMax)
	for time.Now().Before(deadline) {
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			break
		}
		if len(got) < 1<<16 {
			got = append(got, buf[:n]...)
		}
		clear(buf[:n])
	}
	unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIFLUSH)
	return got, nil
}
