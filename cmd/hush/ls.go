package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// lsOptions are the flags of hush ls.
type lsOptions struct {
	Long   bool
	JSON   bool
	System bool
}

// lsEntry is one element of `hush ls --json` (see docs/CLI.md). Scope is
// set only with --system.
type lsEntry struct {
	Name        string    `json:"name"`
	Scope       *string   `json:"scope,omitempty"`
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

func (a *app) lsCmd() *cobra.Command {
	var o lsOptions
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "list secret names, sorted (never values)",
		Long: `List the names of your secrets, one per line, sorted. With --scope S, the
names in scope S. With --system, every reserved key in full with its scope.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.System && a.scopeFlag != "" {
				return usageErrorf("--system lists every scope; it cannot be combined with --scope")
			}
			var p store.Provider
			if o.System {
				f, err := a.openFile()
				if err != nil {
					return err
				}
				p = f
			} else {
				v, _, err := a.openView()
				if err != nil {
					return err
				}
				p = v
			}
			return runLs(cmd.Context(), p, o, a.stdout)
		},
	}
	cmd.Flags().BoolVarP(&o.Long, "long", "l", false, "also show the updated time and the description")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print a JSON array (see docs/CLI.md)")
	cmd.Flags().BoolVar(&o.System, "system", false, "list the reserved keys of every scope")
	return cmd
}

// runLs lists p. With o.System, p is the raw store and only reserved keys
// are shown, with their scope.
func runLs(ctx context.Context, p store.Provider, o lsOptions, w io.Writer) error {
	es, err := p.List(ctx)
	if err != nil {
		return err
	}
	out := make([]lsEntry, 0, len(es))
	for _, e := range es {
		le := lsEntry{Name: e.Name, Description: e.Description, Created: e.Created.UTC(), Updated: e.Updated.UTC()}
		if o.System {
			if !scope.IsReserved(e.Name) {
				continue
			}
			s, _, _ := scope.Split(e.Name)
			le.Scope = &s
		}
		out = append(out, le)
	}
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range out {
		line := printable(e.Name)
		if e.Scope != nil {
			s := printable(*e.Scope)
			if s == "" {
				s = "-"
			}
			line += "\t" + s
		}
		if o.Long {
			line += "\t" + e.Updated.Format(time.RFC3339) + "\t" + printable(e.Description)
		}
		if o.Long || o.System {
			fmt.Fprintln(tw, line)
		} else {
			fmt.Fprintln(w, line)
		}
	}
	return tw.Flush()
}
