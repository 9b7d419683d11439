package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/internal/inputfile"
	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/migrate"
	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// Exit codes. They are part of hush's interface: docs/CLI.md and the
// README list them, and scripts branch on them.
const (
	exitOK          = 0
	exitError       = 1 // any other error
	exitUsage       = 2 // bad command line or argument
	exitNotFound    = 3 // the secret does not exist
	exitRefused     = 4 // reserved name, insecure permissions, other refusal by policy
	exitDecrypt     = 5 // no identity matched, wrong passphrase, corrupt or tampered file
	exitLockTimeout = 6 // timed out waiting for the store lock
)

// errRefused marks a refusal by policy that has no library sentinel (a
// target that exists without --force, an identity file that exists).
var errRefused = errors.New("refused")

// usageError is a mistake on the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErr(err error) error {
	var u *usageError
	if errors.As(err, &u) {
		return err
	}
	return &usageError{err}
}

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// flagError is a library's validation error shown under the flag the
// user typed, without the library's package prefix: "--scope Bad: invalid
// scope name: only a-z and 0-9 are allowed". It unwraps to the library's
// error, so errors.Is (scope.ErrInvalidScope, migrate.ErrInvalidRule) and
// the exit code are unchanged.
type flagError struct {
	flag, value, reason string
	err                 error
	bare                bool // flag is a label of its own, without value
}

func (e *flagError) Error() string {
	if e.bare {
		return e.flag + ": " + e.reason
	}
	v := printable(e.value)
	if v == e.value && (v == "" || strings.ContainsAny(v, " \t")) {
		v = strconv.Quote(v)
	}
	return e.flag + " " + v + ": " + e.reason
}

func (e *flagError) Unwrap() error { return e.err }

// scopeFlagErr relabels err from scope.ValidateScope(value) for flag.
func scopeFlagErr(flag, value string, err error) error {
	return &flagError{flag: flag, value: value, reason: scopeReason(err.Error(), value), err: err}
}

// scopeReason is msg, an error of scope.ValidateScope(s), without its
// package prefix and without s, which the flag's label shows.
func scopeReason(msg, s string) string {
	msg = strings.TrimPrefix(msg, "scope: ")
	invalid := scope.ErrInvalidScope.Error()
	return strings.Replace(msg, invalid+" "+strconv.Quote(s), invalid, 1)
}

// ruleFlagErr relabels err from migrate.ParseRule(value) for --rule.
func ruleFlagErr(value string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "migrate: ")
	msg = strings.TrimPrefix(msg, migrate.ErrInvalidRule.Error())
	msg = strings.TrimPrefix(msg, ": ")
	for _, r := range []string{value, strconv.Quote(value)} {
		msg = strings.TrimPrefix(msg, " "+r+": ")
	}
	if i := strings.LastIndexByte(value, '='); i >= 0 {
		msg = scopeReason(msg, value[i+1:])
	}
	return &flagError{flag: "--rule", value: value, reason: msg, err: err}
}

// nameFlagErr relabels err from migrate.Migration.Validate, once every
// rule is valid: the migration's name, --name or derived from the rules.
func nameFlagErr(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "migrate: ")
	msg = strings.TrimPrefix(msg, migrate.ErrInvalidRule.Error()+": ")
	msg = strings.TrimPrefix(msg, "migration name: ")
	if name == "" {
		return withHint(&flagError{flag: "the migration name derived from the rules", reason: msg, err: err, bare: true}, "name the migration with --name")
	}
	return &flagError{flag: "--name", value: name, reason: msg, err: err}
}

// hintError attaches a next step to an error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, format string, args ...any) error {
	return &hintError{err: err, hint: fmt.Sprintf(format, args...)}
}

// exitCode maps an error to hush's exit code. It is the only place that
// does: commands return errors wrapping the library's sentinels and this
// function decides with errors.Is and errors.As.
func exitCode(err error) int {
	var usage *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage),
		errors.Is(err, store.ErrInvalidName),
		errors.Is(err, store.ErrInvalidRecipient),
		errors.Is(err, scope.ErrInvalidScope),
		errors.Is(err, migrate.ErrInvalidRule):
		return exitUsage
	case errors.Is(err, store.ErrLockTimeout):
		return exitLockTimeout
	case errors.Is(err, store.ErrDecrypt),
		errors.Is(err, store.ErrUntrusted),
		errors.Is(err, store.ErrNoIdentity),
		errors.Is(err, store.ErrInvalidIdentity):
		return exitDecrypt
	case errors.Is(err, scope.ErrReserved),
		errors.Is(err, store.ErrInsecurePermissions),
		errors.Is(err, store.ErrExists),
		errors.Is(err, store.ErrLastRecipient),
		errors.Is(err, store.ErrReadOnly),
		errors.Is(err, store.ErrNotRegular),
		errors.Is(err, inputfile.ErrNotRegular),
		errors.Is(err, formats.ErrClash),
		errors.Is(err, errRefused):
		return exitRefused
	case errors.Is(err, store.ErrNotFound):
		return exitNotFound
	}
	return exitError
}

// hints returns the next steps that help with err, most specific first.
func hints(err error, a *app) []string {
	var out []string
	var h *hintError
	for e := err; errors.As(e, &h); e = h.err {
		out = append(out, h.hint)
	}
	var (
		perm  *store.PermissionError
		usage *usageError
		integ *store.IntegrityError
		doc   *doctorError
	)
	wrongPass := ""
	if !a.promptFailed {
		wrongPass = a.wrongPassphrase(err)
	}
	switch {
	case a.promptFailed:
		out = append(out, "a passphrase-protected identity needs a terminal; in automation use an unencrypted identity from a secret store (HUSH_IDENTITY or HUSH_IDENTITY_FILE)")
	case wrongPass != "":
		out = append(out, fmt.Sprintf("it was the passphrase, not the recipients: run the command again and type the passphrase of %s", wrongPass))
	case errors.As(err, &doc) && doc.hint != "":
		out = append(out, doc.hint)
	case errors.As(err, &perm):
		out = append(out, permHint(perm))
	case errors.As(err, &integ) && integ.Superseded:
		out = append(out, "bring the store up to date (git pull, or the copy you replaced); if you mean to go back to this version, check it with your team and run 'hush trust'")
	case errors.As(err, &integ):
		out = append(out, "check with your team that this change is genuine; 'hush trust' shows what changed and accepts the store as it is now")
	case errors.Is(err, locate.ErrNoHome):
		out = append(out, "set HOME (or XDG_DATA_HOME and XDG_CONFIG_HOME), or name the files: --store or HUSH_STORE, and -i, HUSH_IDENTITY or HUSH_IDENTITY_FILE")
	case errors.Is(err, store.ErrNoStore):
		p, _ := a.storePath() // resolved already: the store it names is missing
		out = append(out, fmt.Sprintf("run 'hush init' to create a store at %s, or point --store or HUSH_STORE at an existing one", p))
	case errors.Is(err, store.ErrNoIdentity):
		out = append(out, "pass -i FILE, set HUSH_IDENTITY (the key) or HUSH_IDENTITY_FILE (a path), or run 'hush keygen'")
	case errors.Is(err, store.ErrDecrypt):
		out = append(out, "check that one of your identities (-i, HUSH_IDENTITY, HUSH_IDENTITY_FILE, the default identity file) is a recipient of this store; 'hush doctor' shows which are used")
	case errors.Is(err, store.ErrLockTimeout):
		out = append(out, "another hush process is writing the store; retry, or raise --lock-timeout / HUSH_LOCK_TIMEOUT")
	case errors.Is(err, scope.ErrReserved):
		out = append(out, "use --scope S to address a program's scope on purpose")
	case errors.Is(err, store.ErrLastRecipient):
		out = append(out, "add a recipient you hold an identity for first, or pass --force if you really mean to lose access")
	case errors.Is(err, store.ErrNotRegular):
		out = append(out, "hush reads and writes only regular files, following a symbolic link to one; name another path")
	case errors.Is(err, store.ErrNotFound) && len(out) == 0:
		out = append(out, "'hush ls' lists the names you can see")
	case errors.As(err, &usage) && len(out) == 0:
		out = append(out, "run 'hush --help' or 'hush COMMAND --help' for usage")
	}
	return out
}

// permHint says how to fix what a *store.PermissionError found.
func permHint(e *store.PermissionError) string {
	const accept = " (or set HUSH_ALLOW_INSECURE_PERMS=1 to accept it)"
	switch e.Reason {
	case store.ReasonOwner:
		return fmt.Sprintf("check who put %s there; if you trust it, make it yours with 'sudo chown %d %s'", e.Path, os.Geteuid(), e.Path) + accept
	case store.ReasonLinks:
		return fmt.Sprintf("give it a name of its own: 'cp %s %s.new && mv %s.new %s'", e.Path, e.Path, e.Path, e.Path) + accept
	case store.ReasonDirectory:
		return fmt.Sprintf("run 'chmod go-w %s', or keep the store in a directory only you can write", e.Dir) + accept
	case store.ReasonNotRegular:
		return fmt.Sprintf("remove %s if you did not put it there; hush creates its lock file itself", e.Path)
	}
	return fmt.Sprintf("run 'chmod 600 %s'", e.Path) + accept
}
