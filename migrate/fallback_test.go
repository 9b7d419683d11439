package migrate

import (
	"context"
	"testing"

	"github.com/hush-secrets/hush/store"
)

// mover is a store in which a migrator moves one key at the worst moment
// for a fallback reader: after the reader missed the scoped key and just
// before it reads the bare one. A migrator writes the new key before it
// deletes the old, so the reader must still find the secret.
type mover struct {
	store.Provider
	old, new string
	moved    bool
}

func (m *mover) Get(ctx context.Context, name string) ([]byte, error) {
	if name == m.old && !m.moved {
		m.moved = true
		v, err := m.Provider.Get(ctx, m.old)
		if err != nil {
			return nil, err
		}
		if err := m.Provider.Set(ctx, m.new, v); err != nil {
			return nil, err
		}
		if err := m.Provider.Delete(ctx, m.old); err != nil {
			return nil, err
		}
	}
	return m.Provider.Get(ctx, name)
}

func TestFallbackDuringMove(t *testing.T) {
	f := newStore(t)
	seed(t, f, map[string]string{"BEARER_TOKEN_x": "v"})
	p := &mover{Provider: f, old: "BEARER_TOKEN_x", new: "__hush_workloads_BEARER_TOKEN_x"}
	fb, err := workloads.Fallback(p, "workloads")
	if err != nil {
		t.Fatal(err)
	}
	v, err := fb.Get(ctx, "BEARER_TOKEN_x")
	if err != nil || string(v) != "v" {
		t.Fatalf("fallback Get while the key moved = %q, %v; want the value (read the scoped key again after the bare key vanished)", v, err)
	}
}
