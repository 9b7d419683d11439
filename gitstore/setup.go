package gitstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hush-secrets/hush/internal/atomicfile"
)

// DriverName is the name of the diff and merge drivers in git's config
// and in .gitattributes (diff=hush merge=hush).
const DriverName = "hush"

// SetupOptions configure [Setup].
type SetupOptions struct {
	// Dir is a directory inside the repository; "" means the current one.
	Dir string
	// Global writes the driver config to the user's git config (git
	// config --global) and touches no repository: each repository's
	// committed .gitattributes still selects the store files.
	Global bool
	// Patterns are the .gitattributes patterns of the store files.
	Patterns []string
	// Stores are paths of store files in the work tree (relative to the
	// current directory, like any path argument); each becomes an
	// anchored pattern ("/secrets/store.age"). A store outside the work
	// tree is an error. With neither Patterns nor Stores the pattern is
	// "*.age". Both are ignored with Global.
	Stores []string
	// Command is how git runs hush; "" means "hush" (found on PATH).
	Command string
	// Git is the git program; "" means "git".
	Git string
	// Env, if not nil, is the environment git runs with.
	Env []string
}

// SetupResult says what Setup changed.
type SetupResult struct {
	Root           string   // the repository's top level; "" with Global
	Patterns       []string // the store patterns set up
	AttributesFile string   // the .gitattributes written or checked
	AddedPatterns  []string // patterns newly added to .gitattributes
	IgnoreFile     string   // the .gitignore written or checked
	AddedIgnores   []string // lock-file patterns newly added to .gitignore
	ConfigScope    string   // "local" or "global"
}

// Setup configures git for hush stores: the textconv diff driver
// ("hush git textconv") and the merge driver ("hush git merge %O %A %B
// %P"), in the repository's config or, with Global, the user's. In a
// repository it also adds "PATTERN diff=hush merge=hush" to the top-level
// .gitattributes and "PATTERN.lock" to .gitignore, for each pattern that
// is not already there (the store's lock file is never deleted, and must
// not be committed). Running it again changes nothing.
//
// textconv output is never cached (diff.hush.cachetextconv stays unset):
// git keeps that cache in refs/notes, which can be pushed.
//
// Errors: a directory that is not in a git work tree; a store outside the
// work tree (wrapping ErrOutsideRepository; nothing is written then); any
// failure of git or of writing the files.
func Setup(ctx context.Context, opts SetupOptions) (*SetupResult, error) {
	g := gitRunner{git: opts.Git, dir: opts.Dir, env: opts.Env}
	if g.git == "" {
		g.git = "git"
	}
	res := &SetupResult{ConfigScope: "local"}
	scope := "--local"
	if opts.Global {
		res.ConfigScope, scope = "global", "--global"
	} else {
		top, err := g.run(ctx, "rev-parse", "--show-toplevel")
		if err != nil {
			return nil, fmt.Errorf("gitstore: setup: not inside a git work tree (%v)", err)
		}
		res.Root = strings.TrimSpace(top)
	}
	var patterns []string
	if !opts.Global {
		patterns = slices.Clone(opts.Patterns)
		for _, st := range opts.Stores {
			p, err := anchoredPattern(res.Root, st)
			if err != nil {
				return nil, err
			}
			patterns = append(patterns, p)
		}
		if len(patterns) == 0 {
			patterns = []string{"*.age"}
		}
	}
	cmd := opts.Command
	if cmd == "" {
		cmd = "hush"
	}
	cmd = shellQuote(cmd)
	config := [][2]string{
		{"diff." + DriverName + ".textconv", cmd + " git textconv"},
		{"merge." + DriverName + ".name", "hush: key-level merge of an encrypted store"},
		{"merge." + DriverName + ".driver", cmd + " git merge %O %A %B %P"},
	}
	for _, kv := range config {
		if _, err := g.run(ctx, "config", scope, kv[0], kv[1]); err != nil {
			return nil, fmt.Errorf("gitstore: setup: git config %s: %v", kv[0], err)
		}
	}
	if opts.Global {
		return res, nil
	}
	res.Patterns = patterns
	var err error
	res.AttributesFile = filepath.Join(res.Root, ".gitattributes")
	res.AddedPatterns, err = ensureLines(res.AttributesFile, patterns, func(p string) string {
		return p + " diff=" + DriverName + " merge=" + DriverName
	}, hasAttributes)
	if err != nil {
		return nil, fmt.Errorf("gitstore: setup: %w", err)
	}
	res.IgnoreFile = filepath.Join(res.Root, ".gitignore")
	locks := make([]string, len(patterns))
	for i, p := range patterns {
		locks[i] = p + ".lock"
	}
	res.AddedIgnores, err = ensureLines(res.IgnoreFile, locks, func(p string) string { return p },
		func(line, p string) bool { return strings.TrimSpace(line) == p })
	if err != nil {
		return nil, fmt.Errorf("gitstore: setup: %w", err)
	}
	return res, nil
}

// ErrOutsideRepository means a store given to Setup is not in the
// repository's work tree.
var ErrOutsideRepository = errors.New("store is not inside the repository")

// anchoredPattern returns the .gitattributes pattern that matches exactly
// the file at path, relative to the work tree root.
func anchoredPattern(root, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	// Resolve symlinks in the directory (git reports the real top level);
	// the store itself may not exist yet.
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", fmt.Errorf("gitstore: setup: %w", err)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("gitstore: setup: %w", err)
	}
	rel, err := filepath.Rel(realRoot, filepath.Join(dir, filepath.Base(abs)))
	if err != nil || rel == "." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || rel == ".." {
		return "", fmt.Errorf("gitstore: setup: %s: %w at %s", path, ErrOutsideRepository, root)
	}
	rel = filepath.ToSlash(rel)
	if strings.ContainsAny(rel, " \t*?[]!#\"\\") {
		return "", fmt.Errorf("gitstore: setup: %s: the path has characters .gitattributes cannot match literally; pass a pattern instead", path)
	}
	return "/" + rel, nil
}

// hasAttributes reports whether a .gitattributes line gives pattern both
// hush drivers.
func hasAttributes(line, pattern string) bool {
	f := strings.Fields(line)
	return len(f) > 0 && f[0] == pattern &&
		slices.Contains(f[1:], "diff="+DriverName) && slices.Contains(f[1:], "merge="+DriverName)
}

// ensureLines appends line(k) to the file for each key that no existing
// line matches, creating the file (0644, as git would) if needed. It
// returns the keys added.
func ensureLines(path string, keys []string, line func(string) string, has func(line, key string) bool) ([]string, error) {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	lines := strings.Split(string(old), "\n")
	var add []string
	for _, k := range keys {
		if slices.ContainsFunc(lines, func(l string) bool { return has(l, k) }) || slices.Contains(add, k) {
			continue
		}
		add = append(add, k)
	}
	if len(add) == 0 {
		return nil, nil
	}
	buf := bytes.NewBuffer(old)
	if len(old) > 0 && old[len(old)-1] != '\n' {
		buf.WriteByte('\n')
	}
	for _, k := range add {
		buf.WriteString(line(k) + "\n")
	}
	if err := replaceKeeping(path, buf.Bytes()); err != nil {
		return nil, err
	}
	return add, nil
}

// replaceKeeping atomically replaces path (the file it links to, if it is
// a symbolic link) with data, keeping the file's mode; a new file gets
// 0644 less the umask. A setup interrupted midway leaves the old file.
func replaceKeeping(path string, data []byte) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	fi, statErr := os.Stat(path)
	p, err := atomicfile.NewPendingFile(path, 0o644)
	if err != nil {
		return err
	}
	defer p.Cleanup()
	if statErr == nil {
		if err := os.Chmod(p.Name(), fi.Mode().Perm()); err != nil {
			return err
		}
	}
	if _, err := p.Write(data); err != nil {
		return err
	}
	return p.CloseAtomicallyReplace()
}

// shellQuote quotes s for the shell git runs drivers with, unless it is
// made only of characters that need no quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

type gitRunner struct {
	git, dir string
	env      []string
}

// run runs git and returns its stdout; the error carries its stderr.
func (g gitRunner) run(ctx context.Context, args ...string) (string, error) {
	c := exec.CommandContext(ctx, g.git, args...)
	c.Dir = g.dir
	c.Env = g.env
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			return "", err
		}
		return "", fmt.Errorf("%v: %s", err, msg)
	}
	return out.String(), nil
}
