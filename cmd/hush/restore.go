package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/store"
)

// restoreOptions are the arguments of hush restore.
type restoreOptions struct {
	File string // a path, or "-" for standard input
}

func (a *app) restoreCmd() *cobra.Command {
	var o restoreOptions
	cmd := &cobra.Command{
		Use:   "restore FILE|-",
		Short: "rebuild an empty store from the plaintext that 'age -d' prints of a store",
		Long: `Rebuild the store's contents from the plaintext JSON document that
'age -d' prints of a hush store ('-' reads standard input): every entry,
reserved keys of programs' scopes included, with its exact bytes, its
description and its created and updated times, in one atomic change.

The store must be empty (a new one from 'hush init'); a store holding
anything is refused (exit 4). The store keeps its own recipients: the
document's list is only compared with them.

  umask 077
  age -d -i ~/.config/hush/identity.txt old-store.age > store.json
  hush init
  hush restore store.json
  rm store.json`,
		Args: exactArgs(1, "one FILE (or - for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			if err := a.noScope("restore"); err != nil {
				return err
			}
			f, err := a.openFileUnlocked(cmd.Context())
			if err != nil {
				return err
			}
			data, err := a.readInput(o.File, maxImport)
			if err != nil {
				return err
			}
			defer clear(data)
			return a.runRestore(cmd.Context(), f, o, data, a.stderr)
		},
	}
	return cmd
}

// runRestore parses data, a store's plaintext document, and restores it
// into f, which must be empty. It says on stderr how many secrets it
// restored, and which of the document's recipients the store is not
// encrypted to. Nothing is written on any error; a store that is not
// empty is a refusal (exit 4).
func (a *app) runRestore(ctx context.Context, f *store.File, o restoreOptions, data []byte, stderr io.Writer) error {
	if looksEncrypted(data) {
		return withHint(fmt.Errorf("%s is an encrypted age file, not the plaintext document", inputName(o.File)),
			"decrypt it first: umask 077; age -d -i IDENTITY %s > store.json; then hush restore store.json", inputName(o.File))
	}
	doc, err := formats.ParseStoreDocument(bytes.NewReader(data))
	if err != nil {
		return inputErr("restore", o.File, err)
	}
	defer func() {
		for _, e := range doc.Entries {
			clear(e.Value)
		}
	}()
	if err := formats.Restore(ctx, f, doc); err != nil {
		if errors.Is(err, formats.ErrNotEmpty) {
			return withHint(fmt.Errorf("%w: restore: the store at %s is not empty; restore only fills a new store", errRefused, f.Path()),
				"restore into a new store: hush --store NEW.age init, then hush --store NEW.age restore %s", o.File)
		}
		return err
	}
	reserved := 0
	for _, e := range doc.Entries {
		if strings.HasPrefix(e.Name, "__hush_") {
			reserved++
		}
	}
	note := func(format string, args ...any) {
		if !a.quiet {
			fmt.Fprintf(stderr, "hush: "+format+"\n", args...)
		}
	}
	note("restored %d secret(s), %d of them in programs' scopes, into %s", len(doc.Entries), reserved, f.Path())
	have, err := f.Recipients(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, r := range doc.Recipients {
		if r != store.PassphraseRecipient && !slices.Contains(have, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		note("the old store was also encrypted to %d recipient(s) this one is not", len(missing))
		note("hint: to give them access again: hush recipients add %s", shellWords(missing))
	}
	return nil
}

// looksEncrypted reports data that is an age file (binary or armored)
// rather than its plaintext.
func looksEncrypted(data []byte) bool {
	return bytes.HasPrefix(data, []byte("age-encryption.org/")) ||
		bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("-----BEGIN AGE ENCRYPTED FILE-----"))
}

// shellWords joins words for a command line to copy, single-quoting those
// with blanks (SSH keys and their comments).
func shellWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = w
		if strings.ContainsAny(w, " \t'") {
			q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

func inputName(file string) string {
	if file == "-" {
		return "standard input"
	}
	return file
}
