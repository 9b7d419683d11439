package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/migrate"
	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// TestExitCode pins the mapping from errors to exit codes, including
// errors wrapped the way the library and the commands wrap them.
func TestExitCode(t *testing.T) {
	keyErr := func(err error) error { return &store.KeyError{Op: "get", Name: "X", Err: err} }
	storeErr := func(err error) error { return &store.StoreError{Path: "/s", Err: err} }
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain", errors.New("boom"), 1},
		{"io", storeErr(fs.ErrPermission), 1},
		{"no store", storeErr(store.ErrNoStore), 1},
		{"limit", keyErr(store.ErrLimit), 1},
		{"parse error", &formats.ParseError{Format: "dotenv", Line: 3, Reason: "bad"}, 1},
		{"verify", &migrate.StepError{Key: "X", Step: migrate.StepVerify, Err: migrate.ErrVerify}, 1},
		{"context canceled", context.Canceled, 1},
		{"usage", usageErrorf("bad flag"), 2},
		{"usage wrapped in hint", withHint(usageErrorf("x"), "y"), 2},
		{"invalid name", keyErr(store.ErrInvalidName), 2},
		{"invalid long name", keyErr(fmt.Errorf("%w: %w", store.ErrInvalidName, store.ErrLimit)), 2},
		{"invalid recipient", fmt.Errorf("%w x", store.ErrInvalidRecipient), 2},
		{"invalid scope", fmt.Errorf("scope: %w", scope.ErrInvalidScope), 2},
		{"invalid rule", fmt.Errorf("migrate: %w", migrate.ErrInvalidRule), 2},
		{"invalid --scope", scopeFlagErr("--scope", "Bad", scope.ValidateScope("Bad")), 2},
		{"invalid --rule", ruleFlagErr("A=Bad", func() error { _, err := migrate.ParseRule("A=Bad"); return err }()), 2},
		{"not found", keyErr(store.ErrNotFound), 3},
		{"not found via hint", withHint(keyErr(store.ErrNotFound), "h"), 3},
		{"reserved", keyErr(fmt.Errorf("%w (x)", scope.ErrReserved)), 4},
		{"insecure", &store.PermissionError{Path: "/s", Mode: 0o644}, 4},
		{"exists", storeErr(store.ErrExists), 4},
		{"last recipient", storeErr(store.ErrLastRecipient), 4},
		{"read-only", keyErr(store.ErrReadOnly), 4},
		{"clash", &formats.ClashError{Names: []string{"A"}}, 4},
		{"refused", withHint(fmt.Errorf("%w: target exists", errRefused), "h"), 4},
		{"decrypt", storeErr(&store.DecryptError{Reason: errors.New("no identity matched")}), 5},
		{"no identity", fmt.Errorf("%w (looked)", store.ErrNoIdentity), 5},
		{"invalid identity", fmt.Errorf("%w in f", store.ErrInvalidIdentity), 5},
		{"toolhive password", fmt.Errorf("formats: toolhive: %w", store.ErrDecrypt), 5},
		{"lock timeout", keyErr(storeErr(fmt.Errorf("%w (after 1s)", store.ErrLockTimeout))), 6},
		{"doctor first failure", &doctorError{failed: 2, first: storeErr(store.ErrDecrypt)}, 5},
		// Precedence: a lock timeout or decrypt failure is reported as such
		// even when the operation was also about a missing name.
		{"lock beats not found", errors.Join(keyErr(store.ErrNotFound), store.ErrLockTimeout), 6},
		{"decrypt beats not found", errors.Join(keyErr(store.ErrNotFound), store.ErrDecrypt), 5},
		{"usage beats everything", usageErr(keyErr(store.ErrNotFound)), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestLowerFirst(t *testing.T) {
	for in, want := range map[string]string{
		"":           "",
		"Store x":    "store x",
		"store x":    "store x",
		"SSH key":    "SSH key",
		"HUSH_STORE": "HUSH_STORE",
	} {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFlagErrorKeepsIdentity: relabelling a library error under the flag
// the user typed keeps what errors.Is sees.
func TestFlagErrorKeepsIdentity(t *testing.T) {
	err := scopeFlagErr("--scope", "Bad", scope.ValidateScope("Bad"))
	if !errors.Is(err, scope.ErrInvalidScope) {
		t.Errorf("%v: not scope.ErrInvalidScope", err)
	}
	_, rerr := migrate.ParseRule("A=Bad")
	if err := ruleFlagErr("A=Bad", rerr); !errors.Is(err, migrate.ErrInvalidRule) {
		t.Errorf("%v: not migrate.ErrInvalidRule", err)
	}
	m := migrate.Migration{Name: "a b", Rules: []migrate.Rule{{Prefix: "A", Scope: "x"}}}
	if err := nameFlagErr(m.Name, m.Validate()); !errors.Is(err, migrate.ErrInvalidRule) {
		t.Errorf("%v: not migrate.ErrInvalidRule", err)
	}
}
