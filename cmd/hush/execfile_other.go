//go:build !linux

package main

import (
	"fmt"
	"io"
)

// cleanerArg: see execfile_linux.go. Elsewhere there is no watcher.
const cleanerArg = "__exec-file-cleaner"

// memoryDir refuses: outside Linux, hush cannot tell a memory file system
// from a disk, nor watch the command's exit after exec(2), so --file is
// not offered rather than leave secrets on a disk.
func memoryDir(string) (string, error) {
	return "", withHint(fmt.Errorf("exec: --file: %w: %w", errRefused, errNoMemoryFS),
		"--file needs Linux; pass the secret with --secret")
}

func startCleaner(string, io.Writer) error { return nil }

func runCleaner(_ []string, stderr io.Writer) int {
	fmt.Fprintln(stderr, "hush: exec --file: no watcher on this system")
	return exitError
}
