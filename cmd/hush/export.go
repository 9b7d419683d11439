package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/store"
)

// exportOptions are the flags of hush export.
type exportOptions struct {
	Format string
	Only   []string
	Strict bool
}

func (a *app) exportCmd() *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export",
		Short: "print secrets as dotenv, JSON or shell assignments",
		Long: `Print secrets to standard output in a format that the matching import reads
back exactly:

  dotenv  NAME='value' (double quotes with escapes only where needed)
  json    {"NAME": "value", ...}
  shell   export NAME='value' lines for eval "$(hush export --format shell)"

Secrets a format cannot hold are left out with a warning (--strict: fail).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.Format, "dotenv", "json", "shell"); err != nil {
				return err
			}
			p, _, err := a.openView()
			if err != nil {
				return err
			}
			err = runExport(cmd.Context(), p, o, a.stdout)
			var skip *formats.SkipError
			if errors.As(err, &skip) && !o.Strict {
				for _, s := range skip.Skipped {
					a.warnf("export: left out %s: %s", s.Name, s.Reason)
				}
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "dotenv", "output format: dotenv, json or shell")
	cmd.Flags().StringSliceVar(&o.Only, "only", nil, "export only these secrets (comma-separated)")
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "fail if a secret cannot be represented in the format")
	return cmd
}

func checkFormat(f string, allowed ...string) error {
	for _, a := range allowed {
		if f == a {
			return nil
		}
	}
	return usageErrorf("unknown format %q (want %s)", f, strings.Join(allowed, ", "))
}

// runExport writes the secrets of p (or just o.Only) to w in o.Format.
func runExport(ctx context.Context, p store.Provider, o exportOptions, w io.Writer) error {
	names := o.Only
	if len(names) == 0 {
		es, err := p.List(ctx)
		if err != nil {
			return err
		}
		for _, e := range es {
			names = append(names, e.Name)
		}
	}
	secrets := make([]formats.Secret, 0, len(names))
	defer func() { clearSecrets(secrets) }()
	for _, n := range names {
		v, err := p.Get(ctx, n)
		if err != nil {
			return err
		}
		secrets = append(secrets, formats.Secret{Name: n, Value: v})
	}
	switch o.Format {
	case "json":
		return formats.WriteJSON(w, secrets)
	case "shell":
		return formats.WriteShell(w, secrets)
	default:
		return formats.WriteDotenv(w, secrets)
	}
}

// importOptions are the flags of hush import.
type importOptions struct {
	Format       string
	Overwrite    bool
	SkipExisting bool
	File         string
}

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
			p, _, err := a.openView()
			if err != nil {
				return err
			}
			data, err := a.readInput(o.File)
			if err != nil {
				return err
			}
			defer clear(data)
			rep, err := runImport(cmd.Context(), p, o, data)
			if err != nil {
				return err
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

// readInput reads a whole input file, or stdin for "-".
func (a *app) readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(a.stdin, store.MaxStoreSize))
	}
	return os.ReadFile(name)
}

// runImport parses data and imports it into p in one change.
func runImport(ctx context.Context, p store.Provider, o importOptions, data []byte) (*formats.ImportReport, error) {
	var (
		secrets []formats.Secret
		err     error
	)
	if o.Format == "json" {
		secrets, err = formats.ParseJSON(bytes.NewReader(data))
	} else {
		secrets, err = formats.ParseDotenv(bytes.NewReader(data))
	}
	if err != nil {
		return nil, err
	}
	defer clearSecrets(secrets)
	return formats.Import(ctx, p, secrets, o.mode())
}

func clearSecrets(ss []formats.Secret) {
	for _, s := range ss {
		clear(s.Value)
	}
}

// reportImport says on stderr what an import did (names only).
func (a *app) reportImport(r *formats.ImportReport) {
	a.warnf("imported %d new, %d overwritten, %d unchanged, %d kept (--skip-existing)",
		len(r.Added), len(r.Overwritten), len(r.Unchanged), len(r.Skipped))
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
			file := a.toolhivePath()
			if len(args) == 1 {
				file = args[0]
			}
			f, err := a.openFile()
			if err != nil {
				return err
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			pass, err := a.toolhivePassword()
			if err != nil {
				return err
			}
			defer clear(pass)
			secrets, err := formats.ParseToolHive(data, pass)
			if err != nil {
				return err
			}
			defer clearSecrets(secrets)
			rep, err := formats.Import(cmd.Context(), f, secrets, o.mode())
			if err != nil {
				return err
			}
			a.reportImport(rep)
			return nil
		},
	}
}

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
