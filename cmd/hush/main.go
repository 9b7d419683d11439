// Command hush is the command-line interface to a hush store: one
// age-encrypted file of secrets, guarded by an advisory lock.
//
// The binary is thin: each command parses its flags into an options
// struct, opens the store through the library (package store, with the
// user view of package scope by default) and calls a function that takes
// readers and writers. Errors are mapped to exit codes in one place,
// [exitCode]; see docs/CLI.md for the codes and the --json formats.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}
