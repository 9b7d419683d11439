package scope_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

func ExampleScoped() {
	ctx := context.Background()
	p := store.NewMemory()

	ci, err := scope.Scoped(p, "ci")
	if err != nil {
		log.Fatal(err)
	}
	if err := ci.Set(ctx, "TOKEN", []byte("s3cr3t")); err != nil {
		log.Fatal(err)
	}
	if err := p.Set(ctx, "TOKEN", []byte("a user's token")); err != nil {
		log.Fatal(err)
	}

	v, _ := ci.Get(ctx, "TOKEN")
	fmt.Printf("ci TOKEN = %s\n", v)

	es, _ := ci.List(ctx)
	for _, e := range es {
		fmt.Println("ci lists", e.Name)
	}
	es, _ = p.List(ctx)
	for _, e := range es {
		fmt.Println("the store holds", e.Name)
	}

	// Errors name the key the caller used, without the prefix.
	_, err = ci.Get(ctx, "MISSING")
	fmt.Println(err, errors.Is(err, store.ErrNotFound))

	_, err = scope.Scoped(p, "CI")
	fmt.Println(errors.Is(err, scope.ErrInvalidScope))
	// Output:
	// ci TOKEN = s3cr3t
	// ci lists TOKEN
	// the store holds TOKEN
	// the store holds __hush_ci_TOKEN
	// get MISSING: secret not found true
	// true
}

func ExampleUser() {
	ctx := context.Background()
	p := store.NewMemory()
	daemon, _ := scope.Scoped(p, "daemon")
	_ = daemon.Set(ctx, "refresh", []byte("r-123"))

	u := scope.User(p)
	_ = u.Set(ctx, "DB_PASSWORD", []byte("hunter2"))

	es, _ := u.List(ctx)
	for _, e := range es {
		fmt.Println("user lists", e.Name)
	}

	_, err := u.Get(ctx, "__hush_daemon_refresh")
	fmt.Println(errors.Is(err, scope.ErrReserved))

	err = u.DeleteMany(ctx, []string{"DB_PASSWORD", "__hush_daemon_refresh"})
	fmt.Println(errors.Is(err, scope.ErrReserved))

	_ = u.Cleanup(ctx)
	es, _ = p.List(ctx)
	for _, e := range es {
		fmt.Println("after cleanup the store holds", e.Name)
	}
	// Output:
	// user lists DB_PASSWORD
	// true
	// true
	// after cleanup the store holds __hush_daemon_refresh
}

// registry is a daemon's client for a container registry. Its login is the
// daemon's own secret; the secrets its users pass to workloads are theirs.
type registry struct {
	users store.Provider // names come from people: flags, configs, requests
	own   store.Provider // the daemon's credentials, in its scope
}

// newRegistry wires one store into the two views the daemon needs. The
// daemon never keeps the raw store.
func newRegistry(p store.Provider) (*registry, error) {
	own, err := scope.Scoped(p, "daemon")
	if err != nil {
		return nil, err
	}
	return &registry{users: scope.User(p), own: own}, nil
}

// launch resolves the secrets a user asked for and authenticates with the
// daemon's own token. It returns what it would hand the workload.
func (r *registry) launch(ctx context.Context, requested []string) (string, error) {
	token, err := r.own.Get(ctx, "registry-token")
	if err != nil {
		return "", fmt.Errorf("daemon login: %w", err)
	}
	env := []string{"auth=" + strings.Repeat("*", len(token))}
	for _, name := range requested {
		v, err := r.users.Get(ctx, name)
		if err != nil {
			return "", fmt.Errorf("workload secret: %w", err)
		}
		env = append(env, name+"="+string(v))
	}
	return strings.Join(env, " "), nil
}

// Example_wiring is the program-like wiring of SPEC §4: a daemon resolves
// user-named secrets through User(p) and its own token through
// Scoped(p, "daemon"), over one real file store. A user who names the
// daemon's token gets a refusal, not the token, and a user's cleanup
// leaves the daemon logged in.
func Example_wiring() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "hush-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	id, _ := age.GenerateX25519Identity()
	p, err := store.Create(ctx, filepath.Join(dir, "store.age"), []string{id.Recipient().String()},
		store.Options{Identities: []age.Identity{id}})
	if err != nil {
		log.Fatal(err)
	}

	reg, err := newRegistry(p)
	if err != nil {
		log.Fatal(err)
	}
	// The daemon logs in once; a user stores a secret for their workload.
	_ = reg.own.Set(ctx, "registry-token", []byte("tok-42"))
	_ = reg.users.Set(ctx, "API_KEY", []byte("k-7"))

	out, err := reg.launch(ctx, []string{"API_KEY"})
	fmt.Println(out, err)

	_, err = reg.launch(ctx, []string{"__hush_daemon_registry-token"})
	fmt.Println(err)

	_ = store.Cleanup(ctx, reg.users)
	_, err = reg.launch(ctx, nil)
	fmt.Println("daemon still logged in:", err == nil)
	// Output:
	// auth=****** API_KEY=k-7 <nil>
	// workload secret: get __hush_daemon_registry-token: reserved name (names starting with __hush_ belong to programs' scopes)
	// daemon still logged in: true
}
