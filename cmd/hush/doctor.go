package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/migrate"
	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// check is one line of hush doctor's report. A check that could not run
// because one it needs failed is Skipped (and not OK); Detail says why.
type check struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"`
	Detail  string `json:"detail"`
	err     error
}

// doctorJSON is the output of `hush doctor --json` (docs/CLI.md).
type doctorJSON struct {
	OK     bool    `json:"ok"`
	Checks []check `json:"checks"`
}

// doctorError reports failed checks; it wraps the first failure, so the
// exit code is that failure's (4 permissions, 5 decrypt, 6 lock, ...).
// Skipped checks are counted apart: they are not failures of their own.
// hint, when set, is how to fix the first failure, in place of the hint
// its error would get in another command.
type doctorError struct {
	failed, skipped int
	first           error
	hint            string
}

func (e *doctorError) Error() string {
	skipped := ""
	if e.skipped > 0 {
		skipped = fmt.Sprintf(", %d skipped", e.skipped)
	}
	return fmt.Sprintf("doctor: %d check(s) failed%s; the first: %v", e.failed, skipped, e.first)
}
func (e *doctorError) Unwrap() error { return e.first }

// doctorOptions are the flags of hush doctor.
type doctorOptions struct {
	JSON bool
}

func (a *app) doctorCmd() *cobra.Command {
	var o doctorOptions
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "check paths, permissions, decryption, recipients, lock and migrations",
		Long: `Check the store's path and permissions, the identities, that the store
decrypts, its recipients, its lock, and the recorded migrations. Exit 0 only
when every check passes; otherwise the exit code of the first failure.
A check that needs one that failed (decrypt needs an identity; recipients,
lock and migrations need the store to decrypt) is listed as skipped, with
the reason. A passphrase-protected identity is unlocked by the agent when
it holds it (see 'hush agent'), else asked for on the terminal.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.noScope("doctor"); err != nil {
				return err
			}
			return a.runDoctor(cmd.Context(), o, a.stdout)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print a JSON report (see docs/CLI.md)")
	return cmd
}

// runDoctor runs every check and writes the report to w, as lines or with
// o.JSON as doctorJSON. It returns a *doctorError if any check failed.
func (a *app) runDoctor(ctx context.Context, o doctorOptions, w io.Writer) error {
	cs, hint := a.doctorChecks(ctx)
	err := writeDoctor(cs, o.JSON, w)
	var de *doctorError
	if errors.As(err, &de) {
		de.hint = hint
	}
	return err
}

// doctorChecks runs every check it can; a check whose prerequisite failed
// is reported as skipped with the reason. hint is how to fix a failed
// decryption, "" for any other failure.
func (a *app) doctorChecks(ctx context.Context) (cs []check, hint string) {
	add := func(name string, err error, detail string) bool {
		c := check{Name: name, OK: err == nil, Detail: detail, err: err}
		if err != nil {
			c.Detail = err.Error()
		}
		cs = append(cs, c)
		return err == nil
	}
	skip := func(why string, names ...string) {
		for _, n := range names {
			cs = append(cs, check{Name: n, Skipped: true, Detail: "skipped: " + why})
		}
	}
	path, err := a.storePath()
	var fi fs.FileInfo
	if err == nil {
		fi, err = os.Stat(path)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Size() == 0):
		err = &store.StoreError{Path: path, Err: store.ErrNoStore}
	case err == nil && !fi.Mode().IsRegular():
		err = fmt.Errorf("%s is not a regular file", path)
	}
	storeOK := add("store", err, path)
	if storeOK {
		err = nil
		if !a.allowInsecure() {
			err = store.CheckStorePermissions(path, fi)
		}
		add("store permissions", err, fmt.Sprintf("%s mode %04o", path, fi.Mode().Perm()))
	}
	dir := filepath.Dir(path)
	if di, err := os.Stat(dir); path != "" && err == nil {
		if di.Mode().Perm()&0o022 != 0 && di.Mode()&fs.ModeSticky == 0 && !a.allowInsecure() {
			err = fmt.Errorf("%w: directory %s is writable by group or others (mode %04o); anyone there could replace the store",
				store.ErrInsecurePermissions, dir, di.Mode().Perm())
		}
		add("store directory", err, fmt.Sprintf("%s mode %04o", dir, di.Mode().Perm()))
	}
	found, err := locate.Identities(a.identitySource())
	detail := ""
	if err == nil {
		detail = fmt.Sprintf("%d identity(ies) from %s", len(found.Identities), found.From)
		local := found
		if found = a.withAgent(found); found != local {
			if id, ok := found.Identities[0].(*agentIdentity); ok {
				detail += fmt.Sprintf(", unlocked by the agent (pid %d)", id.pid)
			}
		}
	}
	idOK := add("identity", err, detail)
	switch {
	case !storeOK && !idOK:
		skip("needs a store and an identity", "decrypt", "recipients", "lock", "migrations")
		return cs, ""
	case !storeOK:
		skip("needs a store", "decrypt", "recipients", "lock", "migrations")
		return cs, ""
	case !idOK:
		skip("needs an identity", "decrypt", "recipients", "lock", "migrations")
		return cs, ""
	}
	wait, err := a.lockWait()
	if err != nil {
		wait = store.DefaultLockTimeout
	}
	f, err := store.Open(path, store.Options{Identities: found.Identities, LockTimeout: wait, AllowInsecurePermissions: true})
	var es []store.Entry
	if err == nil {
		es, err = f.List(ctx)
	}
	if !add("decrypt", err, fmt.Sprintf("%d entries", len(es))) {
		skip("the store did not decrypt", "recipients", "lock", "migrations")
		return cs, decryptHint(err, found)
	}
	rs, err := f.Recipients(ctx)
	if err == nil {
		for _, r := range rs {
			if r == store.PassphraseRecipient {
				continue
			}
			if _, perr := store.ParseRecipient(r, nil); perr != nil {
				err = perr
				break
			}
		}
		if len(rs) == 0 {
			err = errors.New("the store lists no recipients")
		}
	}
	add("recipients", err, fmt.Sprintf("%d recipient(s)", len(rs)))
	lockPath := f.LockPath()
	err = nil
	if li, lerr := os.Stat(lockPath); lerr == nil && !a.allowInsecure() {
		err = store.CheckPermissions(lockPath, li)
	}
	if err == nil {
		err = f.Update(ctx, func(store.Tx) error { return nil })
	}
	add("lock", err, lockPath+" can be taken")
	var done []string
	for _, e := range es {
		if s, name, ok := scope.Split(e.Name); ok && s == migrate.RecordScope {
			done = append(done, name)
		}
	}
	detail = "none recorded"
	if len(done) > 0 {
		detail = "recorded complete: " + strings.Join(done, ", ")
	}
	add("migrations", nil, detail)
	return cs, ""
}

// decryptHint says how to fix a store that the identities of found could
// not decrypt: become a recipient when none matched, else put back a good
// copy. A wrong passphrase and an integrity refusal have hints of their
// own (see hints), which come first.
func decryptHint(err error, found *locate.Found) string {
	var noMatch *age.NoIdentityMatchError
	if !errors.As(err, &noMatch) {
		return "the store file is damaged or not a hush store: put back a good copy (git, a backup); see the README's recovery section"
	}
	show := "'hush keygen -y FILE' for each of " + strings.Join(found.Paths, ", ")
	switch {
	case found.From == "HUSH_IDENTITY":
		show = "'printenv HUSH_IDENTITY | hush keygen -y -'"
	case len(found.Paths) == 1:
		show = "'hush keygen -y " + found.Paths[0] + "'"
	}
	return fmt.Sprintf("none of the identities from %s is a recipient of this store: give your public key (%s) to someone who can decrypt it, to add with 'hush recipients add KEY', or point -i at an identity that is one", found.From, show)
}

// writeDoctor writes the report of cs to w and returns a *doctorError if
// any check failed.
func writeDoctor(cs []check, asJSON bool, w io.Writer) error {
	var first error
	failed, skipped := 0, 0
	for _, c := range cs {
		switch {
		case c.Skipped:
			skipped++
		case !c.OK:
			failed++
			if first == nil {
				first = c.err
			}
		}
	}
	if asJSON {
		if err := encodeJSON(w, doctorJSON{OK: failed == 0, Checks: cs}); err != nil {
			return err
		}
	} else {
		for _, c := range cs {
			mark := "ok  "
			switch {
			case c.Skipped:
				mark = "skip"
			case !c.OK:
				mark = "FAIL"
			}
			fmt.Fprintf(w, "%s  %-18s %s\n", mark, c.Name, printable(c.Detail))
		}
	}
	if failed > 0 {
		return &doctorError{failed: failed, skipped: skipped, first: first}
	}
	return nil
}
