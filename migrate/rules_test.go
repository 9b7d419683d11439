package migrate

import (
	"errors"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/store"
)

func TestParseRule(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Rule
		err  string // substring of the error; "" for success
	}{
		{in: "BEARER_TOKEN_=workloads", want: Rule{"BEARER_TOKEN_", "workloads"}},
		{in: "A=B=c", want: Rule{"A=B", "c"}}, // split at the last "="
		{in: "x=s0", want: Rule{"x", "s0"}},
		{in: "__=ci", want: Rule{"__", "ci"}}, // a prefix of the reserved prefix is allowed
		{in: "noequals", err: "want PREFIX=SCOPE"},
		{in: "=workloads", err: "empty prefix"},
		{in: "P=", err: "invalid scope"},
		{in: "P=Bad", err: "invalid scope"},
		{in: "P=with_underscore", err: "invalid scope"},
		{in: "P=" + strings.Repeat("a", 33), err: "invalid scope"},
		{in: "__hush_x_=ci", err: "reserved namespace"},
		{in: "P=migrate", err: "reserved for migration records"},
		{in: "has space=ci", err: "invalid secret name"},
		{in: "tab\t=ci", err: "invalid secret name"},
	} {
		r, err := ParseRule(tc.in)
		if tc.err == "" {
			if err != nil || r != tc.want {
				t.Errorf("ParseRule(%q) = %+v, %v; want %+v", tc.in, r, err, tc.want)
			}
			if r.String() != tc.in {
				t.Errorf("Rule.String() = %q, want %q", r.String(), tc.in)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrInvalidRule) {
			t.Errorf("ParseRule(%q) error = %v; want ErrInvalidRule containing %q", tc.in, err, tc.err)
		}
	}
}

func TestMigrationValidateAndID(t *testing.T) {
	a := Migration{Rules: []Rule{{"A_", "one"}, {"B_", "two"}}}
	b := Migration{Rules: []Rule{{"B_", "two"}, {"A_", "one"}}}
	// The ID names the record of a completed migration in existing stores,
	// so it is pinned: "rules-" and the first 16 hex digits of
	// SHA-256("A_=one\nB_=two\n"), as printf 'A_=one\nB_=two\n' | sha256sum
	// gives them. Another Migration value with equal rules has the same ID.
	const wantID = "rules-a0dc9f4c1d8c0a1f"
	same := Migration{Rules: []Rule{{"A_", "one"}, {"B_", "two"}}}
	if a.ID() != wantID || same.ID() != wantID {
		t.Errorf("ID() = %q and %q, want the stable %q", a.ID(), same.ID(), wantID)
	}
	if a.ID() == b.ID() {
		t.Errorf("the same rules in another order (a different migration: first match wins) have the same ID %q", a.ID())
	}
	if got := (Migration{Name: "v2-scopes", Rules: a.Rules}).ID(); got != "v2-scopes" {
		t.Errorf("ID() with a Name = %q", got)
	}
	for _, m := range []Migration{
		{},                                  // no rules
		{Rules: []Rule{{"", "x"}}},          // bad rule
		{Name: "has space", Rules: a.Rules}, // bad name
		{Name: strings.Repeat("n", 241), Rules: a.Rules}, // record key too long
	} {
		if err := m.Validate(); !errors.Is(err, ErrInvalidRule) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidRule", m, err)
		}
		if _, err := m.Apply(ctx, store.NewMemory()); err == nil {
			t.Errorf("Apply with an invalid migration %+v succeeded", m)
		}
	}
	if err := (Migration{Name: strings.Repeat("n", 240), Rules: a.Rules}).Validate(); err != nil {
		t.Errorf("a 240-byte name: %v", err)
	}
}

func TestPlan(t *testing.T) {
	keys := []string{
		"BEARER_TOKEN_a", "BEARER_x", "OAUTH_refresh", "bearer_token_lower", "USER_KEY",
		"XBEARER_TOKEN_", "__hush_workloads_BEARER_TOKEN_b", "__hush_migrate_old", "__other",
	}
	for _, tc := range []struct {
		name  string
		rules []Rule
		want  []Move
	}{
		{
			name:  "first match wins",
			rules: []Rule{{"BEARER_TOKEN_", "workloads"}, {"BEARER_", "registry"}},
			want: []Move{
				{"BEARER_TOKEN_a", "__hush_workloads_BEARER_TOKEN_a", "workloads", false},
				{"BEARER_x", "__hush_registry_BEARER_x", "registry", false},
			},
		},
		{
			name:  "order matters",
			rules: []Rule{{"BEARER_", "registry"}, {"BEARER_TOKEN_", "workloads"}},
			want: []Move{
				{"BEARER_TOKEN_a", "__hush_registry_BEARER_TOKEN_a", "registry", false},
				{"BEARER_x", "__hush_registry_BEARER_x", "registry", false},
			},
		},
		{
			name:  "reserved keys are skipped even when the prefix matches them",
			rules: []Rule{{"__", "ci"}},
			want:  []Move{{"__other", "__hush_ci___other", "ci", false}},
		},
		{
			name:  "prefixes are case-sensitive and anchored; nothing else moves",
			rules: []Rule{{"OAUTH_", "auth"}},
			want:  []Move{{"OAUTH_refresh", "__hush_auth_OAUTH_refresh", "auth", false}},
		},
		{
			name:  "no match",
			rules: []Rule{{"NOPE_", "x"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStore(t)
			kv := map[string]string{}
			for _, k := range keys {
				kv[k] = "v-" + k
			}
			seed(t, f, kv)
			before := stateOf(t, f.Path())
			got, err := Migration{Rules: tc.rules}.Plan(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Plan = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("move %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
			before.unchanged(t, f.Path()) // Plan changes nothing
		})
	}
}

func TestPlanNewNameTooLong(t *testing.T) {
	f := newStore(t)
	long := "BEARER_TOKEN_" + strings.Repeat("x", 230) // fits bare, not with the scope prefix
	seed(t, f, map[string]string{long: "v", "BEARER_TOKEN_ok": "v"})
	before := stateOf(t, f.Path())
	m := Migration{Rules: []Rule{{"BEARER_TOKEN_", "workloads"}}}
	_, err := m.Plan(ctx, f)
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepPlan || se.Key != long || !errors.Is(err, store.ErrInvalidName) {
		t.Fatalf("Plan error = %v; want a plan StepError naming the long key and wrapping ErrInvalidName", err)
	}
	if _, err := m.Apply(ctx, f); !errors.As(err, &se) || se.Step != StepPlan {
		t.Fatalf("Apply error = %v, want the plan error", err)
	}
	before.unchanged(t, f.Path()) // nothing was moved
}
