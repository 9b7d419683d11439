package main

import (
	"io"

	"github.com/spf13/cobra"
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
  fish:  hush completion fish > ~/.config/fish/completions/hush.fish`,
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
