package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/store"
)

// version is the module version hush was built as ("(devel)" from a
// checkout), with the VCS revision when the build recorded one.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// versionJSON is the output of `hush version --json` (docs/CLI.md).
type versionJSON struct {
	Version       string `json:"version"`
	Go            string `json:"go"`
	FormatVersion int    `json:"format_version"`
}

func (a *app) versionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "print hush's version",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				return encodeJSON(a.stdout, versionJSON{Version: version(), Go: runtime.Version(), FormatVersion: store.FormatVersion})
			}
			_, err := fmt.Fprintf(a.stdout, "hush %s (%s, store format %d)\n", version(), runtime.Version(), store.FormatVersion)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (see docs/CLI.md)")
	return cmd
}

func (a *app) completionCmd() *cobra.Command {
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
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(a.stdout, true)
			case "zsh":
				return root.GenZshCompletion(a.stdout)
			case "fish":
				return root.GenFishCompletion(a.stdout, true)
			}
			return usageErrorf("unknown shell %q (want bash, zsh or fish)", args[0])
		},
	}
}
