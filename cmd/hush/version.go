package main

import (
	"fmt"
	"io"
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

// versionOptions are the flags of hush version.
type versionOptions struct {
	JSON bool
}

func (a *app) versionCmd() *cobra.Command {
	var o versionOptions
	cmd := &cobra.Command{
		Use:   "version",
		Short: "print hush's version",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(o, a.stdout)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print JSON (see docs/CLI.md)")
	return cmd
}

// runVersion prints hush's version, the Go version and the store format
// version to w, as a line or with o.JSON as versionJSON.
func runVersion(o versionOptions, w io.Writer) error {
	if o.JSON {
		return encodeJSON(w, versionJSON{Version: version(), Go: runtime.Version(), FormatVersion: store.FormatVersion})
	}
	_, err := fmt.Fprintf(w, "hush %s (%s, store format %d)\n", version(), runtime.Version(), store.FormatVersion)
	return err
}
