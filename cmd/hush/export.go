package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/store"
)

// exportOptions are the flags of hush export.
type exportOptions struct {
	Format string
	Only   []string
	Strict bool
	Output string // -o: a file written 0600 and atomically, instead of stdout
	// GitHubEnv is the file --format github appends to: $GITHUB_ENV.
	GitHubEnv string
}

func (a *app) exportCmd() *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export",
		Short: "print secrets as dotenv, JSON or shell assignments, or hand them to a GitHub Actions step",
		Long: `Print secrets to standard output (or, with -o, to a file created 0600) in a
format that the matching import reads back exactly:

  dotenv  NAME='value', each value in the quoting the most dotenv readers
          (docker compose, godotenv, npm dotenv, python-dotenv, systemd,
          bash) read exactly; not shell input: use --format shell for that
  json    {"NAME": "value", ...}
  shell   export NAME='value' lines for eval "$(hush export --format shell)"
  github  in a GitHub Actions step: an ::add-mask:: line on stdout for every
          line of every value, and every secret appended to $GITHUB_ENV for
          the steps that follow

Secrets a format cannot hold are left out with a warning; with --strict they
fail the command and nothing is written.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.Format, "dotenv", "json", "shell", "github"); err != nil {
				return err
			}
			if o.Format == "github" {
				if o.Output != "" {
					return usageErrorf("-o does not go with --format github, which writes to $GITHUB_ENV")
				}
				if o.GitHubEnv = a.getenv("GITHUB_ENV"); o.GitHubEnv == "" {
					return withHint(errors.New("export: GITHUB_ENV is not set"),
						"--format github is for a GitHub Actions step, where the runner sets GITHUB_ENV; elsewhere use --format dotenv, or set GITHUB_ENV to a file")
				}
			}
			if err := checkNames("export", o.Only...); err != nil {
				return err
			}
			p, _, err := a.openView()
			if err != nil {
				return err
			}
			return a.runExport(cmd.Context(), p, o)
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "dotenv", "output format: dotenv, json, shell or github")
	cmd.Flags().StringSliceVar(&o.Only, "only", nil, "export only these secrets (comma-separated)")
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "fail, writing nothing, if a secret cannot be represented in the format")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write to `FILE` (created 0600, replaced atomically) instead of stdout")
	a.completeNameFlags(cmd)
	return cmd
}

// runExport writes the secrets of p (or just o.Only) in o.Format. The
// whole output is built first: with o.Strict a secret the format cannot
// hold fails the command before anything is written, and -o replaces its
// file atomically, so that on any error nothing is written at all. (With
// --format github the masks reach stdout before $GITHUB_ENV is appended
// to; if that append fails, only masks were printed.)
func (a *app) runExport(ctx context.Context, p store.Provider, o exportOptions) error {
	// every value from one version of the store: one All, or one GetMany
	// of the names asked for
	names := o.Only
	var vals [][]byte
	var err error
	if len(names) == 0 {
		names, vals, err = store.All(ctx, p)
	} else {
		vals, err = store.GetMany(ctx, p, names)
	}
	secrets := make([]formats.Secret, len(vals))
	for i, v := range vals {
		secrets[i] = formats.Secret{Name: names[i], Value: v}
	}
	defer func() { clearSecrets(secrets) }()
	if err != nil {
		return err
	}
	var out, env bytes.Buffer
	defer func() { clear(out.Bytes()); clear(env.Bytes()) }()
	switch o.Format {
	case "json":
		err = formats.WriteJSON(&out, secrets)
	case "shell":
		err = formats.WriteShell(&out, secrets)
	case "github":
		err = formats.WriteGitHub(&out, &env, secrets)
	default:
		err = formats.WriteDotenv(&out, secrets)
	}
	var skip *formats.SkipError
	switch {
	case errors.As(err, &skip) && o.Strict:
		return withHint(err, "nothing was written; leave out --strict to write the others, or --only the secrets the format holds")
	case errors.As(err, &skip):
		for _, s := range skip.Skipped {
			a.warnf("export: left out %s: %s", s.Name, s.Reason)
		}
	case err != nil:
		return err
	}
	switch {
	case o.Format == "github":
		if _, err := a.stdout.Write(out.Bytes()); err != nil {
			return err
		}
		return appendFile(o.GitHubEnv, env.Bytes())
	case o.Output != "":
		removeStaleTemps(o.Output)
		return atomicfile.WriteFile(o.Output, out.Bytes(), 0o600, atomicfile.Unnamed())
	}
	_, err = a.stdout.Write(out.Bytes())
	return err
}

// appendFile appends data to the file at path in one write, creating it
// 0600 if it does not exist.
func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("export: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export: writing %s: %w", path, err)
	}
	return nil
}

// reportImport says on stderr what an import did (names only).
func (a *app) reportImport(r *formats.ImportReport) {
	kept := ""
	if len(r.Skipped) > 0 { // only with --skip-existing
		kept = fmt.Sprintf(", %d existing kept (--skip-existing)", len(r.Skipped))
	}
	a.warnf("imported %d new, %d overwritten, %d unchanged%s", len(r.Added), len(r.Overwritten), len(r.Unchanged), kept)
}
