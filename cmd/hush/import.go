package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/store"
)

// importOptions are the flags of hush import.
type importOptions struct {
	Format       string
	Overwrite    bool
	SkipExisting bool
	File         string
}

// mode is what an import does with a name that exists with another value.
func (o importOptions) mode() formats.ImportMode {
	switch {
	case o.Overwrite:
		return formats.ImportOverwrite
	case o.SkipExisting:
		return formats.ImportSkipExisting
	}
	return formats.ImportFail
}

func (a *app) importCmd() *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import [flags] FILE|-",
		Short: "import secrets from a dotenv or JSON file, all or none",
		Long: `Import every secret of a dotenv or JSON file ('-' reads standard input) in
one atomic change. A name that exists with a different value fails the whole
import unless --overwrite or --skip-existing is given. The format defaults
to json for *.json files and dotenv otherwise.`,
		Args: exactArgs(1, "one FILE (or - for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			if o.Overwrite && o.SkipExisting {
				return usageErrorf("--overwrite and --skip-existing exclude each other")
			}
			if o.Format == "" {
				o.Format = "dotenv"
				if strings.EqualFold(filepath.Ext(o.File), ".json") {
					o.Format = "json"
				}
			}
			if err := checkFormat(o.Format, "dotenv", "json"); err != nil {
				return err
			}
			p, _, err := a.openUnlocked(cmd.Context())
			if err != nil {
				return err
			}
			// The input read is the first of what stays live: the
			// collector waits from before it (see importGC).
			defer a.importGC(0)()
			in, err := a.readImport(o.File, maxImport)
			if err != nil {
				return err
			}
			defer in.release()
			a.importGC(len(in.data))
			rep, err := runImport(cmd.Context(), p, o, in)
			if err != nil {
				return inputErr("import", o.File, err)
			}
			a.reportImport(rep)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "", "input format: dotenv or json (default from the file name)")
	cmd.PersistentFlags().BoolVar(&o.Overwrite, "overwrite", false, "replace existing secrets with different values")
	cmd.PersistentFlags().BoolVar(&o.SkipExisting, "skip-existing", false, "keep existing secrets, import the rest")
	cmd.AddCommand(a.importToolHiveCmd(&o))
	return cmd
}

// runImport parses in and imports it into p in one change.
func runImport(ctx context.Context, p store.Provider, o importOptions, in *importInput) (rep *formats.ImportReport, err error) {
	err = in.guard(func() error {
		if o.Format == "json" {
			secrets, err := formats.ParseJSON(bytes.NewReader(in.data))
			if err != nil {
				return err
			}
			defer in.clearSecrets(secrets)
			rep, err = formats.Import(ctx, p, secrets, o.mode())
			return err
		}
		// in's data are this command's own and change no more (a mapped
		// file is read as it is): parsed in place, into two lists.
		names, values, err := formats.ParseDotenvLists(in.data)
		if err != nil {
			return err
		}
		defer in.clearValues(values)
		rep, err = formats.ImportLists(ctx, p, names, values, o.mode())
		return err
	})
	return rep, err
}

// inputErr is the error of command op (import, restore) reading file, as a
// user reads it: a malformed file is named ("import a.json: json: line 3:
// ..."), a clash says how to go on, and neither starts with the library's
// package name. Other errors are returned as they are.
func inputErr(op, file string, err error) error {
	if file == "-" {
		file = "standard input"
	}
	var (
		pe *formats.ParseError
		ce *formats.ClashError
	)
	switch {
	case errors.As(err, &pe):
		at := ""
		if pe.Line > 0 {
			at = " line " + strconv.Itoa(pe.Line) + ":"
		}
		return &relabeled{op + " " + file + ": " + pe.Format + ":" + at + " " + pe.Reason, err}
	case errors.As(err, &ce):
		return withHint(&relabeled{op + ": " + strings.TrimPrefix(ce.Error(), "formats: import: "), err},
			"pass --overwrite to replace them with the file's values, or --skip-existing to keep them and import the rest")
	}
	return err
}

// relabeled shows err with the message msg, written for the command line;
// err's chain (for exit codes and hints) is kept.
type relabeled struct {
	msg string
	err error
}

func (e *relabeled) Error() string { return e.msg }
func (e *relabeled) Unwrap() error { return e.err }

// relabel returns err with the library's prefix (such as "gitstore:
// setup: ") replaced by the command's name op, so that a message names
// what the user typed and no Go package.
func relabel(op, prefix string, err error) error {
	return &relabeled{op + ": " + strings.TrimPrefix(err.Error(), prefix), err}
}

// importToolHiveOptions are the argument of hush import toolhive and the
// mode its parent's --overwrite or --skip-existing chose.
type importToolHiveOptions struct {
	File string
	Mode formats.ImportMode
}

func (a *app) importToolHiveCmd(o *importOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "toolhive [FILE]",
		Short: "import ToolHive's encrypted secret store",
		Long: `Import every secret of a ToolHive encrypted store (default
$XDG_STATE_HOME/toolhive/secrets_encrypted) in one change; the source is
never modified. The password comes from TOOLHIVE_SECRETS_PASSWORD, else from
standard input (asked once without echo on a terminal, else its first
line). ToolHive's __thv_<scope>_<name> keys land as __hush_<scope>_<name>,
so this command writes the whole store and takes no --scope.`,
		Args: rangeArgs(0, 1, "at most one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Overwrite && o.SkipExisting {
				return usageErrorf("--overwrite and --skip-existing exclude each other")
			}
			if err := a.noScope("import toolhive"); err != nil {
				return err
			}
			th := importToolHiveOptions{File: a.toolhivePath(), Mode: o.mode()}
			if len(args) == 1 {
				th.File = args[0]
			}
			f, err := a.openFileUnlocked(cmd.Context())
			if err != nil {
				return err
			}
			rep, err := runImportToolHive(cmd.Context(), f, th, a.readInput, a.toolhivePassword)
			if err != nil {
				return inputErr("import", th.File, err)
			}
			a.reportImport(rep)
			return nil
		},
	}
}

// runImportToolHive reads ToolHive's encrypted store o.File with read (at
// most maxImport bytes), unlocks it with the password that password
// returns, and imports every secret into p in one change. The file is
// read before the password is asked for.
func runImportToolHive(ctx context.Context, p store.Provider, o importToolHiveOptions, read func(string, int64) ([]byte, error), password func() ([]byte, error)) (*formats.ImportReport, error) {
	data, err := read(o.File, maxImport)
	if err != nil {
		return nil, err
	}
	pass, err := password()
	if err != nil {
		return nil, err
	}
	defer clear(pass)
	secrets, err := formats.ParseToolHive(data, pass)
	if err != nil {
		return nil, err
	}
	defer clearSecrets(secrets)
	return formats.Import(ctx, p, secrets, o.Mode)
}

// toolhivePath is ToolHive's default store, under $XDG_STATE_HOME.
func (a *app) toolhivePath() string {
	dir := a.getenv("XDG_STATE_HOME")
	if dir == "" {
		dir = filepath.Join(a.getenv("HOME"), ".local", "state")
	}
	return filepath.Join(dir, "toolhive", "secrets_encrypted")
}

// toolhivePassword is TOOLHIVE_SECRETS_PASSWORD, else read from stdin.
func (a *app) toolhivePassword() ([]byte, error) {
	if p := a.getenv("TOOLHIVE_SECRETS_PASSWORD"); p != "" {
		return []byte(p), nil
	}
	if fd, ok := a.stdinTerminal(); ok {
		var out io.Writer = a.stderr
		if t, err := a.tty(); err == nil {
			defer t.Close()
			out = t
		}
		return a.readHidden(fd, out, "ToolHive secrets password")
	}
	line, err := readLine(a.stdin)
	if err != nil {
		return nil, err
	}
	if len(line) == 0 {
		return nil, withHint(errors.New("no ToolHive password"), "set TOOLHIVE_SECRETS_PASSWORD or pipe the password on standard input")
	}
	return line, nil
}
