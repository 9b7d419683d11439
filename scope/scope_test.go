package scope_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/scope"
)

func TestValidateScope(t *testing.T) {
	for _, s := range []string{"a", "0", "ci", "workloads", "migrate", "a1b2", strings.Repeat("z", 32)} {
		if err := scope.ValidateScope(s); err != nil {
			t.Errorf("ValidateScope(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range invalidScopes {
		err := scope.ValidateScope(s)
		if !errors.Is(err, scope.ErrInvalidScope) {
			t.Errorf("ValidateScope(%q) = %v, want ErrInvalidScope", s, err)
		}
	}
}

// invalidScopes are refused by ValidateScope and by Scoped.
var invalidScopes = []string{"", "Ops", "a_b", strings.Repeat("a", 33), "é", "A", "a-b", "a b", " a",
	"a\x00", "_", "ci_", "__hush"}

func TestKeyAndSplit(t *testing.T) {
	if got := scope.Key("ci", "TOKEN"); got != "__hush_ci_TOKEN" {
		t.Fatalf("Key = %q", got)
	}
	for _, tc := range []struct{ scope, name string }{
		{"a", "x"}, {"ci", "TOKEN_x"}, {"a", "__hush_b_x"}, {"a", "_"}, {"z9", "a_b_c"},
	} {
		k := scope.Key(tc.scope, tc.name)
		if !scope.IsReserved(k) {
			t.Errorf("IsReserved(%q) = false", k)
		}
		s, n, ok := scope.Split(k)
		if !ok || s != tc.scope || n != tc.name {
			t.Errorf("Split(%q) = %q, %q, %v; want %q, %q", k, s, n, ok, tc.scope, tc.name)
		}
	}
	for _, k := range []string{"x", "__hush", "__hush_", "__hush_a", "__hush_a_", "__hush__x", "__hush_A_x",
		"__hush_a-b_x", "x__hush_a_y", "__HUSH_a_x", "__hush_" + strings.Repeat("a", 33) + "_x"} {
		if s, n, ok := scope.Split(k); ok {
			t.Errorf("Split(%q) = %q, %q, true; want not ok", k, s, n)
		}
	}
}

func TestIsReserved(t *testing.T) {
	for k, want := range map[string]bool{
		"__hush_":          true,
		"__hush_anything":  true,
		"__hush_a_x":       true,
		"x__hush_a_y":      false,
		"__hushlike":       false,
		"_hush_x":          false,
		"__HUSH_x":         false,
		"TOKEN___hush_a_x": false,
		"":                 false,
	} {
		if got := scope.IsReserved(k); got != want {
			t.Errorf("IsReserved(%q) = %v, want %v", k, got, want)
		}
	}
}
