// Command floorwrite is the floor benchcli compares hush's writes with:
// what the stock age CLI needs to rewrite a store durably. It runs
//
//	age -d -i IDENTITY STORE | age -e -r RECIPIENT...
//
// as two age processes joined by a pipe, as a shell pipeline would, into a
// new temporary file (0600) in STORE's directory; then it fsyncs that file,
// renames it over STORE and fsyncs the directory. It does not parse or
// change the plaintext: that is the least any tool built on the age CLI
// can do to change one value.
//
//	floorwrite -age AGE -i IDENTITY -r RECIPIENT [-r RECIPIENT]... STORE
//
// It exits 0 when STORE has been replaced, 2 for bad arguments, and 1
// when a step failed; a failure before the rename removes the temporary
// file and leaves STORE as it was.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

type list []string

func (l *list) String() string     { return fmt.Sprint(*l) }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	fs := flag.NewFlagSet("floorwrite", flag.ContinueOnError)
	agePath := fs.String("age", "age", "the age CLI to run")
	identity := fs.String("i", "", "the identity file age -d reads")
	var recipients list
	fs.Var(&recipients, "r", "a recipient for age -e (repeatable)")
	if err := fs.Parse(os.Args[1:]); err != nil || fs.NArg() != 1 || *identity == "" || len(recipients) == 0 {
		fmt.Fprintln(os.Stderr, "usage: floorwrite -age AGE -i IDENTITY -r RECIPIENT [-r RECIPIENT]... STORE")
		os.Exit(2)
	}
	if err := rewrite(*agePath, *identity, recipients, fs.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "floorwrite:", err)
		os.Exit(1)
	}
}

// rewrite decrypts store with identity and encrypts it again to
// recipients through two age processes, then replaces store durably. On
// failure it removes its temporary file and returns the first error.
func rewrite(agePath, identity string, recipients []string, store string) (err error) {
	dir := filepath.Dir(store)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(store)+".floor-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	dec := exec.Command(agePath, "-d", "-i", identity, store)
	args := []string{"-e"}
	for _, r := range recipients {
		args = append(args, "-r", r)
	}
	enc := exec.Command(agePath, args...)
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	dec.Stdout, dec.Stderr = pw, os.Stderr
	enc.Stdin, enc.Stdout, enc.Stderr = pr, tmp, os.Stderr
	if err := dec.Start(); err != nil {
		pr.Close()
		pw.Close()
		return fmt.Errorf("age -d: %w", err)
	}
	errE := enc.Start()
	pr.Close() // the children hold their own copies
	pw.Close()
	errD := dec.Wait()
	if errE == nil {
		errE = enc.Wait()
	}
	if errD != nil {
		return fmt.Errorf("age -d: %w", errD)
	}
	if errE != nil {
		return fmt.Errorf("age -e: %w", errE)
	}

	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), store); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
