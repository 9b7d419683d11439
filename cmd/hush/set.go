package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/store"
)

// setOptions are the flags of hush set.
type setOptions struct {
	Name        string
	Description string
	HasDesc     bool   // --description was given (it may be empty)
	FromFile    string // a path, "-" for stdin, or "" for stdin with the newline rule
	KeepNewline bool
}

func (a *app) setCmd() *cobra.Command {
	var o setOptions
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "store a secret read from standard input (never from the command line)",
		Long: `Store the secret NAME. The value is never taken from the command line:

  piped stdin      all of it, minus one trailing newline (--keep-newline keeps it)
  a terminal       asked for twice without echo; the two must match
  --from-file F    the exact bytes of file F ('-' for the exact bytes of stdin)`,
		Args: exactArgs(1, "one NAME; the value comes from standard input, never from the command line"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			o.HasDesc = cmd.Flags().Changed("description")
			p, _, err := a.openView()
			if err != nil {
				return err
			}
			value, err := a.readValue(o)
			if err != nil {
				return err
			}
			defer clear(value)
			return runSet(cmd.Context(), p, o, value)
		},
	}
	cmd.Flags().StringVar(&o.Description, "description", "", "a description shown by 'hush ls --long'")
	cmd.Flags().StringVar(&o.FromFile, "from-file", "", "read the exact bytes of `FILE` ('-' for stdin)")
	cmd.Flags().BoolVar(&o.KeepNewline, "keep-newline", false, "keep the trailing newline of piped input")
	return cmd
}

// readValue reads the value of hush set from the source o names.
func (a *app) readValue(o setOptions) ([]byte, error) {
	switch o.FromFile {
	case "":
	case "-":
		return readAllLimited(a.stdin, "standard input")
	default:
		f, err := os.Open(o.FromFile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readAllLimited(f, o.FromFile)
	}
	if fd, ok := a.stdinTerminal(); ok {
		return a.promptTwice(fd, "value for "+o.Name)
	}
	if a.stdinNothing() {
		return nil, withHint(fmt.Errorf("no value: standard input is %s, not a terminal, a pipe or a file", os.DevNull),
			"pipe the value in (printf '%%s' \"$VALUE\" | hush set %s) or use --from-file FILE", o.Name)
	}
	v, err := readAllLimited(a.stdin, "standard input")
	if err != nil {
		return nil, err
	}
	if !o.KeepNewline {
		if bytes.HasSuffix(v, []byte("\r\n")) {
			v = v[:len(v)-2]
		} else {
			v = bytes.TrimSuffix(v, []byte("\n"))
		}
	}
	return v, nil
}

func readAllLimited(r io.Reader, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, store.MaxValueLen+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if len(b) > store.MaxValueLen {
		clear(b)
		return nil, fmt.Errorf("%s: %w: a value is at most %d bytes", what, store.ErrLimit, store.MaxValueLen)
	}
	return b, nil
}

// runSet stores value under o.Name, with its description, in one change.
func runSet(ctx context.Context, p store.Provider, o setOptions, value []byte) error {
	return store.Update(ctx, p, func(tx store.Tx) error {
		if err := tx.Set(o.Name, value); err != nil {
			return err
		}
		if o.HasDesc {
			return tx.SetDescription(o.Name, o.Description)
		}
		return nil
	})
}

// getOptions are the flags of hush get.
type getOptions struct {
	Name   string
	Raw    bool
	Output string
}

func (a *app) getCmd() *cobra.Command {
	var o getOptions
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "print a secret's value (and a newline; --raw for the exact bytes)",
		Args:  exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			p, _, err := a.openView()
			if err != nil {
				return err
			}
			return runGet(cmd.Context(), p, o, a.stdout)
		},
	}
	cmd.Flags().BoolVar(&o.Raw, "raw", false, "print the exact bytes, without the newline")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write the exact bytes to `FILE` (created 0600) instead of stdout")
	return cmd
}

// checkNames validates names before the store is touched, so that an
// invalid name is a usage error (exit 2) and never "not found".
func checkNames(op string, names ...string) error {
	for _, n := range names {
		if err := store.ValidateName(n); err != nil {
			return &store.KeyError{Op: op, Name: n, Err: err}
		}
	}
	return nil
}

// runGet writes the value of o.Name to stdout, or to the file o.Output.
func runGet(ctx context.Context, p store.Provider, o getOptions, stdout io.Writer) error {
	if err := checkNames("get", o.Name); err != nil {
		return err
	}
	v, err := p.Get(ctx, o.Name)
	if err != nil {
		return err
	}
	defer clear(v)
	if o.Output != "" {
		return atomicfile.WriteFile(o.Output, v, 0o600)
	}
	if !o.Raw {
		v = append(v, '\n')
	}
	_, err = stdout.Write(v)
	return err
}

// rmOptions are the flags of hush rm.
type rmOptions struct {
	Names     []string
	MissingOK bool
}

func (a *app) rmCmd() *cobra.Command {
	var o rmOptions
	cmd := &cobra.Command{
		Use:   "rm NAME...",
		Short: "delete secrets, all or none",
		Args:  minArgs(1, "at least one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			p, _, err := a.openView()
			if err != nil {
				return err
			}
			return runRm(cmd.Context(), p, o)
		},
	}
	cmd.Flags().BoolVar(&o.MissingOK, "missing-ok", false, "ignore names that do not exist")
	return cmd
}

// runRm deletes every name in one change; if one is missing (without
// MissingOK) or refused, nothing is deleted.
func runRm(ctx context.Context, p store.Provider, o rmOptions) error {
	if err := checkNames("rm", o.Names...); err != nil {
		return err
	}
	return store.Update(ctx, p, func(tx store.Tx) error {
		for _, n := range o.Names {
			err := tx.Delete(n)
			if err != nil && !(o.MissingOK && errors.Is(err, store.ErrNotFound)) {
				return err
			}
		}
		return nil
	})
}

// mvOptions are the flags of hush mv.
type mvOptions struct {
	Old, New string
	Force    bool
}

func (a *app) mvCmd() *cobra.Command {
	var o mvOptions
	cmd := &cobra.Command{
		Use:   "mv OLD NEW",
		Short: "rename a secret in one atomic change",
		Args:  exactArgs(2, "OLD and NEW"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Old, o.New = args[0], args[1]
			p, _, err := a.openView()
			if err != nil {
				return err
			}
			return runMv(cmd.Context(), p, o)
		},
	}
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace NEW if it exists")
	return cmd
}

// runMv renames Old to New, keeping its description and creation time's
// meaning, as one change. It refuses to replace New without Force.
func runMv(ctx context.Context, p store.Provider, o mvOptions) error {
	if err := checkNames("mv", o.Old, o.New); err != nil {
		return err
	}
	return store.Update(ctx, p, func(tx store.Tx) error {
		v, err := tx.Get(o.Old)
		if err != nil {
			return err
		}
		defer clear(v)
		e, err := tx.Lookup(o.Old)
		if err != nil {
			return err
		}
		if o.Old == o.New {
			return nil
		}
		if _, err := tx.Lookup(o.New); err == nil && !o.Force {
			return withHint(&store.KeyError{Op: "mv", Name: o.New, Err: fmt.Errorf("%w: the target exists", errRefused)},
				"pass --force to replace it")
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.Set(o.New, v); err != nil {
			return err
		}
		if err := tx.SetDescription(o.New, e.Description); err != nil {
			return err
		}
		return tx.Delete(o.Old)
	})
}
