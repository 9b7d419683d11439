package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/store"
)

// execOptions are the flags of hush exec.
type execOptions struct {
	Only           []string
	Secrets        []string // NAME,target=ENV
	Files          []string // NAME[,target=ENV]
	EnvFiles       []string
	CredentialsDir bool
	Prefix         string
	Pristine       bool
	Strict         bool
	Command        []string
}

func (a *app) execCmd() *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:   "exec [flags] -- CMD [ARGS...]",
		Short: "run a command with secrets in its environment",
		Long: `Run CMD with secrets added to its environment, replacing the hush process
(exec(2)), so signals and the exit status pass straight through.

By default every secret you can see becomes a variable of the same name
(with --prefix P prepended). --only A,B limits that to the names listed;
--secret NAME,target=ENV adds one secret under another variable name.
Names that are not valid variable names are skipped with a warning, or
fail with --strict. A bad --secret or --file mapping is a usage error
(exit 2) and nothing runs.

--file NAME[,target=ENV] gives CMD the value as a file instead: ENV
(default NAME_FILE) holds the path of a 0600 file named NAME in a private
directory on a memory file system ($XDG_RUNTIME_DIR, else /dev/shm; never
a disk). A watcher process removes the directory as soon as CMD exits,
however it exits (kill -9 included). --credentials-dir also sets
CREDENTIALS_DIRECTORY to that directory, systemd's layout.

--env-file FILE (repeatable) sets every variable of a dotenv file. A value
hush://NAME, there or in an inherited variable, is replaced by the secret
NAME. With --only, --secret, --file, --env-file or references, only the
secrets they name are injected, not all. A reference to a missing secret
is exit 3 and CMD never starts.

The child never inherits HUSH_IDENTITY or HUSH_IDENTITY_FILE. Secrets named
like variables that change how programs are loaded or shells start (LD_*,
DYLD_*, BASH_ENV, ENV, PATH, IFS, PYTHONPATH, NODE_OPTIONS, GIT_*, HUSH_*
and more: docs/CLI.md lists them all) are skipped with a warning unless
named with --only or --secret; --strict does not change that.
--pristine starts the child from an empty environment plus the secrets and
PATH, HOME, USER, LANG, TERM and TZ from hush's own environment.`,
		Args: minArgs(1, "a command after --"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Command = args
			return a.runExec(cmd.Context(), o)
		},
	}
	cmd.Flags().StringSliceVar(&o.Only, "only", nil, "inject only these secrets (comma-separated)")
	cmd.Flags().StringArrayVar(&o.Secrets, "secret", nil, "inject secret NAME as variable ENV (`NAME,target=ENV`, repeatable)")
	cmd.Flags().StringArrayVar(&o.Files, "file", nil, "give secret NAME as a file whose path is in ENV, default NAME_FILE (`NAME[,target=ENV]`, repeatable)")
	cmd.Flags().StringArrayVar(&o.EnvFiles, "env-file", nil, "set the variables of dotenv `FILE`, resolving hush://NAME values (repeatable; - for stdin)")
	cmd.Flags().BoolVar(&o.CredentialsDir, "credentials-dir", false, "also set CREDENTIALS_DIRECTORY to the directory of the --file secrets (systemd's layout)")
	cmd.Flags().StringVar(&o.Prefix, "prefix", "", "prepend `P` to every variable name")
	cmd.Flags().BoolVar(&o.Pristine, "pristine", false, "start the command from an empty environment plus the secrets and PATH, HOME, USER, LANG, TERM, TZ")
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "fail instead of skipping names that are not valid variable names")
	a.completeNameFlags(cmd)
	return cmd
}

// runExec checks the flags before the store is opened (a bad mapping is
// a usage error and nothing runs), reads the --env-file files, builds the
// child's environment and replaces hush with the command.
func (a *app) runExec(ctx context.Context, o execOptions) error {
	ms, err := explicitMappings(o)
	if err != nil {
		return err
	}
	files, err := parseFileFlags(o.Files)
	if err != nil {
		return err
	}
	if o.CredentialsDir && len(files) == 0 {
		return usageErrorf("--credentials-dir needs at least one --file")
	}
	if err := checkTargets(ms, files, o.CredentialsDir); err != nil {
		return err
	}
	vars, err := a.readEnvFiles(o.EnvFiles)
	if err != nil {
		return err
	}
	p, _, err := a.openView()
	if err != nil {
		return err
	}
	inherited := inheritedReferences(a.env, o.Pristine)
	var env []string
	if len(o.Only) == 0 && len(o.Secrets) == 0 && len(files) == 0 && len(o.EnvFiles) == 0 && len(inherited) == 0 {
		env, err = a.execEnvAll(ctx, p, o) // every secret of the view
	} else {
		env, err = a.execEnv(ctx, p, o, ms, append(inherited, vars...))
	}
	if err != nil {
		return err
	}
	if len(files) > 0 {
		// a command that cannot be found fails before any file is made
		if _, err := commandPath(o.Command[0], env); err != nil {
			return err
		}
		add := map[string][]byte{}
		remove, err := a.execFiles(ctx, p, files, o.CredentialsDir, add)
		if err != nil {
			return err
		}
		env = childEnv(env, false, appendVars(nil, add))
		defer remove() // only reached when the command did not start
	}
	return a.execute(o.Command, env)
}

// execEnv returns the child's environment (see childEnv): hush's own, or
// its minimum with --pristine, with vars set (references resolved), then
// the secrets of ms added (execEnvAll gives every secret of the view). On
// failure nothing has been started and the error names no value.
//
// It allocates little beyond the values: each variable is made once, in
// one buffer, as the NAME=value string the child receives.
func (a *app) execEnv(ctx context.Context, p store.Provider, o execOptions, ms []mapping, vars []envVar) ([]string, error) {
	add, err := resolveReferences(ctx, p, vars)
	if err != nil {
		return nil, err
	}
	for k, v := range add {
		if bytes.IndexByte(v, 0) >= 0 {
			return nil, fmt.Errorf("%w: exec: the value for %s contains a NUL byte, which an environment variable cannot hold", errRefused, printable(k))
		}
	}
	// What to do with each mapping, up to the first one --strict refuses,
	// and the values of those to set, read from one version of the store;
	// the loop below then meets each check, value and error in the order
	// of the mappings.
	verdicts := make([]verdict, 0, len(ms))
	// (room for the child's whole environment: see set below)
	names := make([]string, 0, len(a.env)+len(add)+len(ms))
	size := 0 // of the variables, for one buffer that holds them all
	for _, m := range ms {
		v := verdictOf(m)
		verdicts = append(verdicts, v)
		if v == notAName && o.Strict {
			break
		}
		if v == setIt {
			size += len(m.target) + 1
			names = append(names, m.name)
		}
	}
	vals, getErr := store.GetMany(ctx, p, names)
	defer func() { // the values an early return left unused
		for _, v := range vals {
			clear(v)
		}
	}()
	for _, v := range vals {
		size += len(v)
	}
	var b varBuilder
	b.Grow(size)
	// names is done with: its array takes the variables set, then the
	// inherited ones in front of them (childEnv)
	set := appendVars(names[:0], add)
	var skipped, loaders []string
	for i, m := range ms[:len(verdicts)] {
		switch verdicts[i] { // the loop stops at the last verdict
		case notAName:
			if o.Strict {
				return nil, withHint(fmt.Errorf("%w: %q is not a valid environment variable name", errRefused, m.target),
					"map it with --secret %s,target=VALID_NAME, or drop --strict to skip it", m.name)
			}
			skipped = append(skipped, fmt.Sprintf("%s: not a valid environment variable name", m.target))
			continue
		case loaderName:
			loaders = append(loaders, loaderWarning(m))
			continue
		}
		if len(vals) == 0 {
			return nil, secretFor("exec: "+m.via(), getErr)
		}
		v := vals[0]
		vals = vals[1:]
		if bytes.IndexByte(v, 0) >= 0 {
			clear(v)
			if o.Strict {
				return nil, fmt.Errorf("%w: %s", errRefused, secretValueError(m.name, "contains a NUL byte, which an environment variable cannot hold"))
			}
			skipped = append(skipped, fmt.Sprintf("%s: its value contains a NUL byte", m.name))
			continue
		}
		set = append(set, b.add(m.target, v)) // replaces a variable of vars
		clear(v)
	}
	for _, s := range skipped {
		a.warnf("exec: skipped %s (--strict makes this an error)", s)
	}
	for _, s := range loaders {
		a.warnf("%s", s)
	}
	return childEnv(a.env, o.Pristine, set), nil
}

// verdict is what exec does with a mapping.
type verdict uint8

const (
	setIt      verdict = iota // read the secret and set the variable
	notAName                  // skip it (--strict: refuse it): not a valid variable name
	loaderName                // skip it: a loader variable, not named explicitly
)

// verdictOf returns what exec does with m: loader variables are skipped
// only when they come from listing the view (see loaderVar).
func verdictOf(m mapping) verdict {
	switch {
	case !formats.ValidEnvName(m.target):
		return notAName
	case !m.explicit && loaderVar(m.target):
		return loaderName
	}
	return setIt
}

// varBuilder makes NAME=value strings in one buffer: with the buffer grown
// to hold them all first, one allocation for all the variables instead
// of one each.
type varBuilder struct{ strings.Builder }

// add returns name=value. The strings returned before stay valid: a
// Builder only appends, and copies to a new buffer when it has to grow.
func (b *varBuilder) add(name string, value []byte) string {
	start := b.Len()
	b.WriteString(name)
	b.WriteByte('=')
	b.Write(value)
	return b.String()[start:]
}

// execute replaces the process with argv, looking argv[0] up in the
// child's PATH. It returns only on failure.
func (a *app) execute(argv, env []string) error {
	path, err := commandPath(argv[0], env)
	if err != nil {
		return err
	}
	if err := a.execve(path, argv, env); err != nil {
		return fmt.Errorf("exec %s: %w", argv[0], err)
	}
	return nil
}

// commandPath returns the path of the command name, looked up in the PATH
// of env when it has no slash.
func commandPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path, err := lookPath(name, env)
	if err != nil {
		return "", withHint(fmt.Errorf("exec %s: %w", name, err), "check the command name and PATH")
	}
	return path, nil
}

// lookPath finds file in the PATH of env.
func lookPath(file string, env []string) (string, error) {
	pathEnv := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathEnv = v
		}
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if _, err := exec.LookPath(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("command not found")
}
