package migrate_test

import (
	"context"
	"fmt"

	"github.com/hush-secrets/hush/migrate"
	"github.com/hush-secrets/hush/store"
)

// A program that used to keep its bearer tokens under bare names moves
// them into its own scope, and reads them through the fallback view, which
// works before, during and after the migration.
func ExampleMigration_Apply() {
	ctx := context.Background()
	p := store.NewMemory() // a real program opens its file store
	p.Set(ctx, "BEARER_TOKEN_api", []byte("t0k3n"))
	p.Set(ctx, "GITHUB_TOKEN", []byte("user's own"))

	m := migrate.Migration{Name: "workloads-v1", Rules: []migrate.Rule{{Prefix: "BEARER_TOKEN_", Scope: "workloads"}}}
	tokens, _ := m.Fallback(p, "workloads")
	v, _ := tokens.Get(ctx, "BEARER_TOKEN_api")
	fmt.Printf("before: %s\n", v)

	rep, err := m.Apply(ctx, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("moved:", rep.Moved)
	v, _ = tokens.Get(ctx, "BEARER_TOKEN_api")
	fmt.Printf("after: %s\n", v)

	rep, _ = m.Apply(ctx, p)
	fmt.Println("second run already done:", rep.AlreadyDone)

	es, _ := p.List(ctx)
	for _, e := range es {
		fmt.Println(e.Name)
	}
	// Output:
	// before: t0k3n
	// moved: [BEARER_TOKEN_api]
	// after: t0k3n
	// second run already done: true
	// GITHUB_TOKEN
	// __hush_migrate_workloads-v1
	// __hush_workloads_BEARER_TOKEN_api
}
