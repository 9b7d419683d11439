package store

import (
	"context"
	"errors"
	"testing"

	"filippo.io/age"
	"github.com/hush-secrets/hush/internal/testkit"
)

// TestFormatCharacterNames: a name with a Unicode format character (a
// bidi control, a zero-width character) looks like another name, so Set
// refuses it with ErrInvalidName; a store written before, which holds
// one, still opens, and that secret can be read, listed and deleted.
func TestFormatCharacterNames(t *testing.T) {
	ctx := context.Background()
	for _, n := range []string{"API\u200bKEY", "file\u202etxt.exe", "\u2066x", "zwj\u200dx", "bom\ufeff", "soft\u00adhyphen"} {
		if err := ValidateName(n); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateName(%q) = %v, want ErrInvalidName", n, err)
		}
		if err := ValidateExistingName(n); err != nil {
			t.Errorf("ValidateExistingName(%q) = %v, want nil (a store may hold it)", n, err)
		}
		if err := NewMemory().Set(ctx, n, []byte("v")); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Set(%q) = %v, want ErrInvalidName", n, err)
		}
	}
	for _, n := range []string{"ünïcødé", "日本語", "emoji😀", "a.b-c_d/e:f@g"} {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", n, err)
		}
	}

	id := newX25519(t)
	p := tempStorePath(t)
	old := "OLD\u200bNAME"
	doc := `{"version":1,"recipients":["` + id.Recipient().String() + `"],"entries":{"OLD\u200bNAME":{"value":"v1"},"PLAIN":{"value":"v2"}}}`
	mustWriteFile(t, p, testkit.Encrypt(t, []byte(doc), id.Recipient()), 0o600)
	f := mustOpen(t, p, Options{Identities: []age.Identity{id}})
	if v, err := f.Get(ctx, old); err != nil || string(v) != "v1" {
		t.Fatalf("Get of an old name with a format character = %q, %v", v, err)
	}
	es, err := f.List(ctx)
	if err != nil || len(es) != 2 || es[0].Name != old {
		t.Fatalf("List = %+v, %v", es, err)
	}
	if err := f.Set(ctx, "NEW", []byte("v3")); err != nil {
		t.Fatalf("a write to a store holding an old name: %v", err)
	}
	if err := f.Set(ctx, old, []byte("v4")); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("Set of the old name = %v, want ErrInvalidName", err)
	}
	if err := f.Delete(ctx, old); err != nil {
		t.Fatalf("Delete of the old name: %v", err)
	}
	if _, err := f.Get(ctx, old); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
}
