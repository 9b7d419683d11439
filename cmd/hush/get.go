package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/store"
)

// getOptions are the flags of hush get.
type getOptions struct {
	Names  []string // one, or several with JSON
	Raw    bool
	Output string
	JSON   bool
}

func (a *app) getCmd() *cobra.Command {
	var o getOptions
	cmd := &cobra.Command{
		Use:   "get NAME | get --json NAME...",
		Short: "print a secret's value (and a newline; --raw for the exact bytes), or several as JSON",
		Long: `Print a secret's value and a newline; --raw prints the exact bytes only, and
-o FILE writes them to a file created 0600.

With --json, print several secrets as one JSON object of names to values, in
the order given. A value that is not valid UTF-8 is an object,
{"value": "<base64>", "encoding": "base64"}, as in the store's own document.
A name that does not exist prints nothing and exits 3.`,
		Args: minArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			switch {
			case o.JSON && (o.Raw || o.Output != ""):
				return usageErrorf("--json does not go with --raw or -o")
			case !o.JSON && len(args) != 1:
				return usageErrorf("%s takes one NAME (got %d arguments); --json takes several", cmd.CommandPath(), len(args))
			}
			if err := checkNames("get", o.Names...); err != nil {
				return err
			}
			p, _, err := a.openView()
			if err != nil {
				return err
			}
			return runGet(cmd.Context(), p, o, a.stdout)
		},
	}
	cmd.Flags().BoolVar(&o.Raw, "raw", false, "print the exact bytes, without the newline")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write the exact bytes to `FILE` (created 0600) instead of stdout")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the named secrets as one JSON object (see docs/CLI.md)")
	cmd.ValidArgsFunction = a.completeNames(1, "json")
	return cmd
}

// runGet writes the value of o.Names[0] to stdout, or to the file
// o.Output; with o.JSON, every named secret as one JSON object. Every
// value is read before anything is written: a missing name writes nothing.
func runGet(ctx context.Context, p store.Provider, o getOptions, stdout io.Writer) error {
	if o.JSON {
		return getJSON(ctx, p, o.Names, stdout)
	}
	v, err := p.Get(ctx, o.Names[0])
	if err != nil {
		return err
	}
	defer clear(v)
	if o.Output != "" {
		removeStaleTemps(o.Output)
		return atomicfile.WriteFile(o.Output, v, 0o600, atomicfile.Unnamed())
	}
	if !o.Raw {
		v = append(v, '\n')
	}
	_, err = stdout.Write(v)
	return err
}

// binaryValue is how --json shows a value that is not valid UTF-8.
type binaryValue struct {
	Value    string `json:"value"`
	Encoding string `json:"encoding"` // always "base64"
}

// getJSON writes {"NAME": value, ...} for names, in the order given (a
// name given twice once), indented as every --json output is. Nothing is written unless every
// name exists.
func getJSON(ctx context.Context, p store.Provider, names []string, w io.Writer) error {
	var vals [][]byte
	defer func() {
		for _, v := range vals {
			clear(v)
		}
	}()
	out := []byte{'{'}
	defer func() { clear(out) }()
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		v, err := p.Get(ctx, n)
		if err != nil {
			return err
		}
		vals = append(vals, v)
		var field any = string(v)
		if !utf8.Valid(v) {
			field = binaryValue{Value: base64.StdEncoding.EncodeToString(v), Encoding: "base64"}
		}
		k, _ := json.Marshal(n)
		f, err := json.Marshal(field)
		if err != nil {
			return err
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(out, k...), ':'), f...)
		clear(f)
	}
	out = append(out, '}')
	var b bytes.Buffer
	defer func() { clear(b.Bytes()) }()
	if err := json.Indent(&b, out, "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// staleAfter is how old a temp file of an -o target must be before a later
// run removes it: older than any write in progress.
const staleAfter = time.Minute

// removeStaleTemps removes what a `get -o`, `export -o` or `render -o` to
// target killed at the one moment that can leave something (between
// giving its unnamed temp file a name and renaming it over the target;
// see atomicfile.Unnamed) left beside target: a complete 0600 file named
// atomicfile.TempPrefix(target) and random hex. Only files older than
// staleAfter are removed, so that another -o writing the same target is
// never disturbed. Errors are
// ignored: this only tidies up.
func removeStaleTemps(target string) {
	dest, err := atomicfile.Resolve(target)
	if err != nil {
		return
	}
	dir := filepath.Dir(dest)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !atomicfile.IsTemp(dest, e.Name()) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleAfter {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
