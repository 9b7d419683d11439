package main

import (
	"context"
	"io"
	"regexp"
	"slices"
	"strings"

	"filippo.io/age"
	"filippo.io/age/plugin"
	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// completionOptions are the argument of hush completion.
type completionOptions struct {
	Shell string
}

func (a *app) completionCmd() *cobra.Command {
	var o completionOptions
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "print a shell completion script",
		Long: `Print a completion script. For example:

  bash:  source <(hush completion bash)
  zsh:   hush completion zsh > "${fpath[1]}/_hush"
  fish:  hush completion fish > ~/.config/fish/completions/hush.fish

The bash script needs bash 4.1 or later and the bash-completion package
(version 2; most distributions install it with bash, macOS users get it
from Homebrew as bash-completion@2). To load it in every new shell, write it
to ~/.local/share/bash-completion/completions/hush.

Completion offers the names of the secrets you can see (with --scope S,
those of scope S) for get, rm, mv, edit, set, generate, exec --only,
exec --secret and export --only, and the scopes in the store for --scope;
names, never values, and never files where a name goes. It uses the agent when one runs (see hush agent), and never
prompts: with a passphrase-protected identity that is not unlocked, or any
other error, it offers nothing.`,
		Args:      exactArgs(1, "one shell: bash, zsh or fish"),
		ValidArgs: []string{"bash", "zsh", "fish"},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Shell = args[0]
			return runCompletion(cmd.Root(), o, a.stdout)
		},
	}
}

// runCompletion writes root's completion script for o.Shell to w; an
// unknown shell is a usage error.
func runCompletion(root *cobra.Command, o completionOptions, w io.Writer) error {
	switch o.Shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	}
	return usageErrorf("unknown shell %q (want bash, zsh or fish)", o.Shell)
}

// completeNames is a ValidArgsFunction offering the secret names of the
// view for the first n positional arguments (every one when n < 0, or when
// one of the boolean flags unlimitedWith is set, as get --json), never a
// name already given, and never files.
func (a *app) completeNames(n int, unlimitedWith ...string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		limit := n
		for _, f := range unlimitedWith {
			if on, err := cmd.Flags().GetBool(f); err == nil && on {
				limit = -1
			}
		}
		if limit >= 0 && len(args) >= limit {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return without(a.completionNames(cmd.Context()), args), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeNameFlags registers, on cmd, the completion of the secret names
// in whichever of its flags take them: --only A,B (the part after the last
// comma), --secret NAME,target=ENV and --file NAME[,target=ENV] (the NAME).
func (a *app) completeNameFlags(cmd *cobra.Command) {
	if cmd.Flags().Lookup("only") != nil {
		mustRegister(cmd, "only", a.completeNameList)
	}
	if cmd.Flags().Lookup("secret") != nil {
		mustRegister(cmd, "secret", a.completeMapping)
	}
	if cmd.Flags().Lookup("file") != nil {
		mustRegister(cmd, "file", a.completeFileMapping)
	}
}

// completeByUsage gives every command under c that has no completion of
// its own the one its usage line implies: the secret names of the view
// for a first argument NAME (set, generate), and nothing at all, not even
// files, for a command that takes no argument. Commands whose usage has
// alternatives ("a | b") keep cobra's default (files).
func (a *app) completeByUsage(c *cobra.Command) {
	for _, sub := range c.Commands() {
		a.completeByUsage(sub)
	}
	if c.ValidArgsFunction != nil || len(c.ValidArgs) > 0 || c.HasSubCommands() || strings.Contains(c.Use, "|") {
		return
	}
	var args []string
	fields := strings.Fields(optionalFlags.ReplaceAllString(c.Use, ""))[1:]
	for i := 0; i < len(fields); i++ {
		switch f := fields[i]; {
		case f == "--" || f == "[flags]" || f == "...":
		case strings.HasPrefix(f, "-"):
			i++ // its value
		default:
			args = append(args, f)
		}
	}
	switch {
	case len(args) == 0:
		c.ValidArgsFunction = cobra.NoFileCompletions
	case args[0] == "NAME":
		c.ValidArgsFunction = a.completeNames(1)
	}
}

// optionalFlags matches the optional flags of a usage line, "[--idle D]".
var optionalFlags = regexp.MustCompile(`\[-[^\]]*\]`)

// completeScopeFlag registers the completion of --scope, a persistent
// flag of root, with the scopes present in the store.
func (a *app) completeScopeFlag(root *cobra.Command) {
	mustRegister(root, "scope", func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return a.completionScopes(cmd.Context()), cobra.ShellCompDirectiveNoFileComp
	})
}

func mustRegister(cmd *cobra.Command, flag string, f cobra.CompletionFunc) {
	if err := cmd.RegisterFlagCompletionFunc(flag, f); err != nil {
		panic(err) // a flag that does not exist: a bug in hush
	}
}

// completeNameList completes a comma-separated list of names: the
// candidates are the list so far followed by each name not yet in it.
func (a *app) completeNameList(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	head := ""
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		head = toComplete[:i+1]
	}
	names := without(a.completionNames(cmd.Context()), strings.Split(head, ","))
	for i, n := range names {
		names[i] = head + n
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// completeMapping completes the NAME of NAME,target=ENV; the rest is the
// caller's to type.
func (a *app) completeMapping(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if strings.Contains(toComplete, ",") {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.completionNames(cmd.Context()), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeFileMapping completes the NAME of --file NAME[,target=ENV]:
// the target is optional, so a space may follow.
func (a *app) completeFileMapping(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if strings.Contains(toComplete, ",") {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.completionNames(cmd.Context()), cobra.ShellCompDirectiveNoFileComp
}

// without returns names minus those in given, keeping the order.
func without(names, given []string) []string {
	return slices.DeleteFunc(names, func(n string) bool { return slices.Contains(given, n) })
}

// completionNames returns the sorted secret names of the view the command
// line addresses (--store, -i, --scope as given), or nil on any error.
func (a *app) completionNames(ctx context.Context) []string {
	f := a.completionStore()
	if f == nil {
		return nil
	}
	v, err := a.view(f)
	if err != nil {
		return nil
	}
	es, err := v.List(ctx)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(es))
	for _, e := range es {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	return names
}

// completionScopes returns the sorted scopes that hold a key in the store,
// or nil on any error.
func (a *app) completionScopes(ctx context.Context) []string {
	f := a.completionStore()
	if f == nil {
		return nil
	}
	es, err := f.List(ctx)
	if err != nil {
		return nil
	}
	var scopes []string
	for _, e := range es {
		if s, _, ok := scope.Split(e.Name); ok && s != "" {
			scopes = append(scopes, s)
		}
	}
	slices.Sort(scopes)
	return slices.Compact(scopes)
}

// completionStore opens the store for completion, which runs inside the
// shell, on the person's terminal, at every tab: it must never prompt nor
// wait. A passphrase-protected identity that would need its passphrase
// fails at once instead (no terminal is ever opened), and plugin
// identities, which may wait for a touch or a PIN, are left out, in the
// agent too (a file key it remembers still serves). It
// returns nil on any error, and prints nothing.
func (a *app) completionStore() *store.File {
	a.tty = func() (ttyFile, error) { return nil, errNoTerminal }
	a.quiet, a.verbose = true, false
	p, err := a.storePath()
	if err != nil {
		return nil
	}
	found, err := locate.Identities(a.identitySource())
	if err != nil {
		return nil
	}
	isPlugin := func(id age.Identity) bool {
		_, ok := id.(*plugin.Identity)
		return ok
	}
	ids := slices.DeleteFunc(slices.Clone(a.agentFor(found, true).Identities), isPlugin)
	if len(ids) == 0 {
		return nil
	}
	if ai, ok := ids[0].(*agentIdentity); ok {
		// Should the agent go away, its fallback must not wait either.
		ai.local = slices.DeleteFunc(slices.Clone(ai.local), isPlugin)
	}
	f, err := store.Open(p, store.Options{Identities: ids, AllowInsecurePermissions: a.allowInsecure()})
	if err != nil {
		return nil
	}
	return f
}
