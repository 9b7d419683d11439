package locate_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"filippo.io/age"

	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/store"
)

// A Go program finds the store and its identities the way the hush command
// does, from variables it keeps in a map rather than in the process
// environment, and opens the store with them.
func Example() {
	dataHome, err := os.MkdirTemp("", "hush-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dataHome)
	id, _ := age.GenerateX25519Identity()

	vars := map[string]string{
		"XDG_DATA_HOME": dataHome,
		"HUSH_IDENTITY": id.String(), // say, a secret of the CI job
	}
	getenv := func(k string) string { return vars[k] }

	path, err := locate.StorePath("", getenv) // "": no --store flag given
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("store:", strings.Replace(path, dataHome, "$XDG_DATA_HOME", 1))
	prepareStore(path, id) // as `hush init` and `hush set` would

	found, err := locate.Identities(locate.Options{Getenv: getenv})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(found.Identities), "identity from", found.From)

	s, err := store.Open(path, store.Options{Identities: found.Identities})
	if err != nil {
		log.Fatal(err)
	}
	v, err := s.Get(context.Background(), "API_KEY")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("API_KEY = %q\n", v)

	// A --store flag wins over the variables.
	path, _ = locate.StorePath("./dev.age", getenv)
	fmt.Println("store:", path)
	// Output:
	// store: $XDG_DATA_HOME/hush/store.age
	// 1 identity from HUSH_IDENTITY
	// API_KEY = "k-123"
	// store: ./dev.age
}

func prepareStore(path string, id *age.X25519Identity) {
	ctx := context.Background()
	s, err := store.Create(ctx, path, []string{id.Recipient().String()}, store.Options{Identities: []age.Identity{id}})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Set(ctx, "API_KEY", []byte("k-123")); err != nil {
		log.Fatal(err)
	}
}
