package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/gitstore"
	"github.com/hush-secrets/hush/store"
)

// gitCmd is `hush git`: set up and serve git's diff and merge drivers for
// a store kept in a repository (package gitstore does the work).
func (a *app) gitCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "git",
		Short: "share a store in git: a diff that shows names, never values, and a key-level merge",
		Long: `Keep a store encrypted to a team's recipients in git.

'hush git setup' installs two drivers. The diff driver (hush git textconv)
makes 'git diff' and 'git log -p' show which names were added, removed or
changed, and which recipients came and went; a value shows only as a
fingerprint keyed by a secret inside the store. The merge driver (hush git
merge) merges by name: changes on one side are taken, and the same name
changed on both sides, or changed on one and deleted on the other, is a
conflict that you resolve with 'hush set' and 'git add'. Recipients
changed on both sides are a conflict too.

The drivers find identities as every command does (-i is not available to
git; use HUSH_IDENTITY, HUSH_IDENTITY_FILE or the default identity file).
See docs/TEAMS.md.`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	cmd.AddCommand(a.gitSetupCmd(), a.gitTextconvCmd(), a.gitMergeCmd())
	return cmd
}

// gitSetupOptions are the arguments and flags of hush git setup.
type gitSetupOptions struct {
	Patterns []string
	Global   bool
	Command  string
}

func (a *app) gitSetupCmd() *cobra.Command {
	var o gitSetupOptions
	cmd := &cobra.Command{
		Use:   "setup [PATTERN...]",
		Short: "configure git's diff and merge drivers for hush stores (idempotent)",
		Long: `Configure git for hush stores.

In a repository: sets diff.hush.textconv and merge.hush.driver in the
repository's git config, adds 'PATTERN diff=hush merge=hush' to the top
.gitattributes and 'PATTERN.lock' to .gitignore. PATTERN defaults to the
store given with --store (or HUSH_STORE) when it is inside the repository,
else '*.age'. If that store exists, a fingerprint key is added to it (in
the reserved scope "git") so that diffs can show a value changed without
showing it. Commit .gitattributes, .gitignore and the store.

With --global: sets the two drivers in your global git config and touches
no repository; do this once per machine, and every repository whose
committed .gitattributes names the drivers uses them.

Running setup again changes nothing.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.noScope("git setup"); err != nil {
				return err
			}
			o.Patterns = args
			return a.runGitSetup(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.Global, "global", false, "configure the drivers in your global git config, for every repository")
	cmd.Flags().StringVar(&o.Command, "command", "", "how git should run hush (default \"hush\", found on PATH)")
	return cmd
}

// runGitSetup configures git's drivers (globally with o.Global) and, in a
// repository, the patterns for o.Patterns or the store; then it reports
// what changed on stderr. See gitstore.Setup for what it touches.
func (a *app) runGitSetup(ctx context.Context, o gitSetupOptions) error {
	if o.Global && len(o.Patterns) > 0 {
		return usageErrorf("git setup --global configures only the drivers; run it without --global in a repository to add patterns")
	}
	opts := gitstore.SetupOptions{Global: o.Global, Patterns: o.Patterns, Command: o.Command, Env: a.env}
	storePath, explicit := a.setupStore(o.Patterns)
	if storePath != "" && !o.Global {
		opts.Stores = []string{storePath}
	}
	res, err := gitstore.Setup(ctx, opts)
	if errors.Is(err, gitstore.ErrOutsideRepository) && !explicit {
		// HUSH_STORE points elsewhere: set up the default pattern.
		opts.Stores, storePath = nil, ""
		res, err = gitstore.Setup(ctx, opts)
	}
	if err != nil {
		return relabel("git setup", "gitstore: setup: ", err)
	}
	return a.reportSetup(ctx, res, storePath, o.Command)
}

// setupStore is the store whose path setup turns into a pattern: --store
// (explicit: it must be inside the repository), else HUSH_STORE (used
// only if it is), and none when patterns were given.
func (a *app) setupStore(patterns []string) (path string, explicit bool) {
	switch {
	case len(patterns) > 0:
		return "", false
	case a.storeFlag != "":
		return a.storeFlag, true
	}
	return a.getenv("HUSH_STORE"), false
}

// reportSetup says on stderr what setup changed, and adds the fingerprint
// key to the store at storePath if it has none.
func (a *app) reportSetup(ctx context.Context, res *gitstore.SetupResult, storePath, command string) error {
	if res.ConfigScope == "global" {
		a.warnf("configured the hush diff and merge drivers in your global git config")
	} else {
		a.warnf("configured the hush diff and merge drivers in %s's git config", res.Root)
	}
	if command == "" {
		if _, err := exec.LookPath("hush"); err != nil {
			a.warnf("warning: git will run 'hush', which is not on PATH")
			a.warnf("hint: put hush on PATH, or run setup again with --command /path/to/hush")
		}
	}
	if res.ConfigScope == "global" {
		return nil
	}
	for _, p := range res.AddedPatterns {
		a.warnf("added '%s diff=hush merge=hush' to %s", p, res.AttributesFile)
	}
	for _, p := range res.AddedIgnores {
		a.warnf("added '%s' to %s (the store's lock file)", p, res.IgnoreFile)
	}
	changed := len(res.AddedPatterns)+len(res.AddedIgnores) > 0
	if storePath != "" {
		added, err := a.ensureFingerprintKey(ctx, storePath)
		switch {
		case err != nil:
			a.warnf("warning: no fingerprint key added to %s: %v", storePath, err)
			a.warnf("hint: diffs show each secret's updated time instead; rerun setup where you can decrypt the store")
		case added:
			a.warnf("added a fingerprint key to %s", storePath)
			changed = true
		}
	}
	if changed {
		a.warnf("hint: commit .gitattributes, .gitignore and the store; teammates run 'hush git setup' in their clone (or 'hush git setup --global' once)")
	}
	return nil
}

// ensureFingerprintKey adds the fingerprint key to the store at path if it
// exists and has none.
func (a *app) ensureFingerprintKey(ctx context.Context, path string) (bool, error) {
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return false, nil // no store yet: nothing to key
	}
	f, err := a.openFile()
	if err != nil {
		return false, err
	}
	return gitstore.EnsureFingerprintKey(ctx, f)
}

// gitTextconvOptions are the argument and flags of hush git textconv.
type gitTextconvOptions struct {
	File       string
	ShowValues bool
}

func (a *app) gitTextconvCmd() *cobra.Command {
	var o gitTextconvOptions
	cmd := &cobra.Command{
		Use:   "textconv [--show-values] FILE",
		Short: "print a store as text for git diff: names and fingerprints, never values",
		Long: `Print the store FILE as lines git can diff: "recipient R" for each
recipient, then "secret NAME fp:F" for each secret, where F is a keyed
fingerprint that changes when the value does. git runs this as the diff
driver that 'hush git setup' installs.

A store you cannot decrypt prints one placeholder line and a warning, and
exits 0, so that git diff and git log keep working for everyone.

A version written by someone who could not read the version this machine
accepted of a store in the repository (a forgery: see 'hush trust') gets
the line "integrity FORGED: ...", so git log -p shows where it came in.

--show-values prints the values instead, for a person who asks:
  git -c diff.hush.textconv='hush git textconv --show-values' diff`,
		Args: exactArgs(1, "one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			return a.runGitTextconv(o, a.stdout)
		},
	}
	cmd.Flags().BoolVar(&o.ShowValues, "show-values", false, "print the values too")
	return cmd
}

// runGitTextconv writes the store o.File to w as gitstore.Textconv's
// lines. A store the caller cannot decrypt gives the placeholder line and
// a warning, not an error, so that git diff keeps working.
func (a *app) runGitTextconv(o gitTextconvOptions, w io.Writer) error {
	data, err := a.readInput(o.File, maxImport)
	if err != nil {
		return err
	}
	var ids []age.Identity
	found, ferr := a.findIdentities()
	if ferr == nil {
		ids = found.Identities
	}
	err = gitstore.Textconv(w, data, gitstore.TextconvOptions{Identities: ids, ShowValues: o.ShowValues, Accepted: a.acceptedHere()})
	if errors.Is(err, store.ErrDecrypt) {
		if ferr != nil {
			err = ferr
		}
		a.warnf("%s: %v (showing a placeholder)", o.File, err)
		return nil
	}
	return err
}

// acceptedHere returns the states this client accepted of the stores in
// the working directory's tree: git runs the diff driver at the top of the
// work tree. None if there is no state directory.
func (a *app) acceptedHere() []*store.AcceptedState {
	dir, sd := "", a.stateDir()
	if wd, err := os.Getwd(); err == nil && sd != "" {
		dir = wd
	}
	if dir == "" {
		return nil
	}
	states, err := store.AcceptedStates(sd, dir)
	if err != nil {
		a.infof("no integrity marks: %v", err)
	}
	return states
}

// gitMergeOptions are the arguments of hush git merge: git's %O %A %B and,
// optionally, %P.
type gitMergeOptions struct {
	Base, Ours, Theirs string
	Path               string
}

func (a *app) gitMergeCmd() *cobra.Command {
	var o gitMergeOptions
	cmd := &cobra.Command{
		Use:   "merge BASE OURS THEIRS [PATH]",
		Short: "git's merge driver: merge three versions of a store by name into OURS",
		Long: `Merge three versions of a store by name; git runs this as the merge driver
'hush git setup' installs (hush git merge %O %A %B %P).

Changes made on one side are taken. The same name changed to different
values on both sides, or changed on one side and deleted on the other, is
a conflict. Recipients merge as sets: a change on one side is taken and
printed; changes to the recipients on both sides are a conflict that names
them (OURS keeps our recipients until you decide).

OURS is replaced by the merge, encrypted to the merged recipients. On a
conflict hush exits 1 and OURS holds every clean change and our version of
each conflicting name; the names are printed, never the values.`,
		Args: rangeArgs(3, 4, "BASE OURS THEIRS [PATH]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Base, o.Ours, o.Theirs = args[0], args[1], args[2]
			if len(args) == 4 {
				o.Path = args[3]
			}
			return a.runGitMerge(o)
		},
	}
	return cmd
}

// runGitMerge merges o.Base, o.Ours and o.Theirs by name into o.Ours (see
// gitstore.MergeFiles) and reports recipient changes on stderr. A conflict
// or a version the caller cannot decrypt is returned with its hints.
func (a *app) runGitMerge(o gitMergeOptions) error {
	found, err := a.findIdentities()
	if err != nil {
		return err
	}
	opts := gitstore.MergeFilesOptions{Identities: found.Identities, Path: o.Path}
	if sd := a.stateDir(); sd != "" && o.Path != "" {
		// git runs the driver at the top of the work tree, where %P is.
		opts.Accepted, _ = store.AcceptedStateOf(sd, o.Path)
	}
	rep, err := gitstore.MergeFiles(o.Base, o.Ours, o.Theirs, opts)
	if rep != nil {
		a.reportMerge(rep, o.Path)
	}
	if err != nil && strings.HasPrefix(err.Error(), "gitstore: ") {
		err = relabel("git merge", "gitstore: ", err) // the command, not the package
	}
	var ce *gitstore.ConflictError
	if errors.As(err, &ce) {
		return mergeConflictHints(err, ce, o.Path)
	}
	return mergeVersionHints(err, o.Path)
}

// reportMerge says on stderr, always, which recipients the merge took
// from their side (added or removed), and warns if the caller can no
// longer decrypt the result.
func (a *app) reportMerge(rep *gitstore.MergeReport, path string) {
	if path == "" {
		path = "the store"
	}
	for _, r := range rep.RecipientsAdded {
		a.warnf("merge of %s: recipient %s added (by their side)", path, printable(r))
	}
	for _, r := range rep.RecipientsRemoved {
		a.warnf("merge of %s: recipient %s removed (by their side)", path, printable(r))
	}
	if rep.LostAccess {
		a.warnf("warning: none of your identities can decrypt the merged %s: the other side removed you as a recipient", path)
	}
}

// mergeVersionHints explains a version the caller cannot decrypt.
func mergeVersionHints(err error, path string) error {
	var ve *gitstore.VersionError
	if !errors.As(err, &ve) || !errors.Is(err, store.ErrDecrypt) {
		return err
	}
	if path == "" {
		path = "STORE"
	}
	switch ve.Which {
	case "theirs":
		return withHint(err, "their version is not encrypted to you: you may have been removed as a recipient; take it with 'git checkout --theirs %s' and ask a member to reapply your changes", path)
	case "base":
		return withHint(err, "the merge also needs the common ancestor, which is not encrypted to you (you were added after it); ask a member who could read it to merge, or keep one side with 'git checkout --ours %s' (or --theirs) and redo the other side's changes with hush set", path)
	}
	return err
}

// mergeConflictHints tells how to resolve the conflicts of err, ce.
func mergeConflictHints(err error, ce *gitstore.ConflictError, path string) error {
	store := path
	if store == "" {
		store = "STORE"
	}
	if slices.ContainsFunc(ce.Conflicts, func(c gitstore.Conflict) bool { return c.Name == "" }) {
		err = withHint(err, "%s keeps our recipients: check with your team who should read it, then 'hush --store %s recipients add' or 'rm' as agreed, 'git add %s' and commit", store, store, store)
		if len(ce.Conflicts) == 1 {
			return err
		}
	}
	err = withHint(err, "or read their side: git show :3:%s | hush git textconv --show-values /dev/stdin", store)
	err = withHint(err, "%s now holds every clean change and our version of each name above; set each one with 'hush --store %s set NAME' (or 'hush rm'), then 'git add %s' and commit (or 'git rebase --continue')", store, store, store)
	return err
}
