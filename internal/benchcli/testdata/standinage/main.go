// Command standinage stands in for the age CLI in benchcli's tests, so
// that they need no age on PATH: the two forms floorwrite and the table
// run, through age's library.
//
//	standinage -d -i IDENTITY FILE      decrypt FILE to standard output
//	standinage -e -r RECIPIENT...       encrypt standard input to standard output
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "standinage:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 4 && args[0] == "-d" && args[1] == "-i":
		f, err := os.Open(args[2])
		if err != nil {
			return err
		}
		defer f.Close()
		ids, err := age.ParseIdentities(f)
		if err != nil {
			return err
		}
		in, err := os.Open(args[3])
		if err != nil {
			return err
		}
		defer in.Close()
		r, err := age.Decrypt(in, ids...)
		if err != nil {
			return err
		}
		_, err = io.Copy(os.Stdout, r)
		return err
	case len(args) >= 3 && args[0] == "-e" && len(args)%2 == 1:
		var lines []string
		for i := 1; i < len(args); i += 2 {
			if args[i] != "-r" {
				return fmt.Errorf("unexpected argument %q", args[i])
			}
			lines = append(lines, args[i+1])
		}
		rs, err := age.ParseRecipients(strings.NewReader(strings.Join(lines, "\n")))
		if err != nil {
			return err
		}
		w, err := age.Encrypt(os.Stdout, rs...)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, os.Stdin); err != nil {
			return err
		}
		return w.Close()
	}
	return fmt.Errorf("unexpected arguments %q", args)
}
