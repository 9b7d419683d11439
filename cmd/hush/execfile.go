package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/store"
)

// This file is hush exec --file: each value in a file of its own, in a
// private directory on a memory file system that a watcher process
// (execfile_linux.go) removes as soon as the command exits, however it
// exits.

// fileMapping is one --file NAME[,target=ENV]: the secret and the variable
// that holds its file's path (NAME_FILE unless given).
type fileMapping struct {
	name, target string
}

// parseFileFlag parses one --file value. A missing NAME, an unknown or
// repeated key, a target that is not a valid variable name, and a name
// that cannot name a file (it holds "/", or is "." or "..") are usage
// errors.
func parseFileFlag(s string) (fileMapping, error) {
	name, _, hasRest := strings.Cut(s, ",")
	if name == "" {
		return fileMapping{}, usageErrorf("--file %q: the secret name is missing: want NAME or NAME,target=ENV", s)
	}
	if strings.Contains(name, "/") || name == "." || name == ".." {
		return fileMapping{}, usageErrorf("--file %q: %q cannot name a file", s, name)
	}
	f := fileMapping{name: name, target: name + "_FILE"}
	if hasRest {
		m, err := parseMappingFlag("--file", s)
		if err != nil {
			return fileMapping{}, err
		}
		f.target = m.target
	} else if !formats.ValidEnvName(f.target) {
		return fileMapping{}, withHint(usageErrorf("--file %q: %q is not a valid environment variable name", s, f.target),
			"name the variable: --file %s,target=VALID_NAME", name)
	}
	return f, nil
}

// parseFileFlags parses every --file value; see parseFileFlag.
func parseFileFlags(ss []string) ([]fileMapping, error) {
	var out []fileMapping
	for _, s := range ss {
		f, err := parseFileFlag(s)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// checkTargets refuses two different secrets or files given for one
// variable, across --secret, --only and --file (a usage error, before the
// store is opened).
func checkTargets(ms []mapping, fs []fileMapping, credentials bool) error {
	by := map[string]string{}
	for _, m := range ms {
		by[m.target] = "secret " + m.name
	}
	if credentials {
		by["CREDENTIALS_DIRECTORY"] = "--credentials-dir"
	}
	for _, f := range fs {
		what := "file " + f.name
		if prev, ok := by[f.target]; ok && prev != what {
			return usageErrorf("variable %s is asked for twice, from %s and %s", f.target, prev, what)
		}
		by[f.target] = what
	}
	return nil
}

// execFiles reads the secrets of fs from p, writes each to a 0600 file
// named after the secret in a new private directory on a memory file
// system, starts the watcher that removes that directory when this
// process (the command, after exec) exits, and adds to add each target
// set to its file's path, and CREDENTIALS_DIRECTORY when credentials is
// set. remove deletes the directory at once, for when the command never
// starts. Nothing is created when a secret is missing.
func (a *app) execFiles(ctx context.Context, p store.Provider, fs []fileMapping, credentials bool, add map[string][]byte) (remove func(), err error) {
	values := map[string][]byte{}
	defer func() {
		for _, v := range values {
			clear(v)
		}
	}()
	for _, f := range fs {
		if _, ok := values[f.name]; ok {
			continue
		}
		v, err := p.Get(ctx, f.name)
		if err != nil {
			return nil, secretFor("exec: --file "+printable(f.name), err)
		}
		values[f.name] = v
	}
	dir, err := memoryDir(a.getenv("XDG_RUNTIME_DIR"))
	if err != nil {
		return nil, err
	}
	remove = func() { os.RemoveAll(dir) }
	if err := startCleaner(dir, a.stderr); err != nil {
		remove()
		return nil, err
	}
	for name, v := range values {
		if err := writePrivateFile(filepath.Join(dir, name), v); err != nil {
			remove()
			return nil, err
		}
	}
	for _, f := range fs {
		add[f.target] = []byte(filepath.Join(dir, f.name))
	}
	if credentials {
		add["CREDENTIALS_DIRECTORY"] = []byte(dir)
	}
	return remove, nil
}

// writePrivateFile creates path, which must not exist, 0600 with content.
func writePrivateFile(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("exec: --file: %w", err)
	}
	err = f.Chmod(0o600) // whatever the umask
	if err == nil {
		_, err = f.Write(content)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("exec: --file: writing %s: %w", path, err)
	}
	return nil
}

// errNoMemoryFS is returned by memoryDir when no memory file system is
// usable: --file never falls back to a disk.
var errNoMemoryFS = errors.New("no memory file system to put the files in ($XDG_RUNTIME_DIR or /dev/shm, a tmpfs); hush does not write secrets to disk")
