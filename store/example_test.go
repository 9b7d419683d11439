package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store"
)

// Create makes a new store encrypted to its recipients; any identity that
// matches one of them reads and writes it.
func ExampleCreate() {
	dir, err := os.MkdirTemp("", "hush-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	id, err := age.GenerateX25519Identity()
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "secrets", "store.age") // the directory is created 0700
	s, err := store.Create(ctx, path, []string{id.Recipient().String()},
		store.Options{Identities: []age.Identity{id}})
	if err != nil {
		log.Fatal(err)
	}

	if err := s.Set(ctx, "GITHUB_TOKEN", []byte("ghp_example\n")); err != nil {
		log.Fatal(err)
	}
	v, err := s.Get(ctx, "GITHUB_TOKEN")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", v) // values are bytes, kept exactly

	_, err = s.Get(ctx, "MISSING")
	fmt.Println(errors.Is(err, store.ErrNotFound))

	fi, _ := os.Stat(path)
	fmt.Println(fi.Mode())
	// Output:
	// "ghp_example\n"
	// true
	// -rw-------
}

// Open reads an existing store with the identities the program passes;
// ParseIdentities reads them from an identity file's text, and package
// locate finds them the way the hush CLI does. A store the identities
// cannot decrypt is an error wrapping ErrDecrypt, never an empty store.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "hush-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	path := filepath.Join(dir, "store.age")
	id, _ := age.GenerateX25519Identity()
	prepareExampleStore(path, id) // as `hush init` and `hush set` would

	// The text of an identity file, as `hush keygen` writes it.
	ids, err := store.ParseIdentities("identity.txt", []byte(id.String()+"\n"), store.IdentityOptions{})
	if err != nil {
		log.Fatal(err)
	}

	s, err := store.Open(path, store.Options{Identities: ids})
	if err != nil {
		log.Fatal(err)
	}
	entries, err := s.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Printf("%s (%s)\n", e.Name, e.Description)
	}
	v, _ := s.Get(ctx, "DB_PASSWORD")
	fmt.Printf("DB_PASSWORD = %q\n", v)

	stranger, _ := age.GenerateX25519Identity()
	other, _ := store.Open(path, store.Options{Identities: []age.Identity{stranger}})
	_, err = other.List(ctx)
	fmt.Println("stranger:", errors.Is(err, store.ErrDecrypt))
	// Output:
	// API_KEY (third-party api)
	// DB_PASSWORD (postgres, prod)
	// DB_PASSWORD = "s3cr\x00t"
	// stranger: true
}

func prepareExampleStore(path string, id *age.X25519Identity) {
	ctx := context.Background()
	s, err := store.Create(ctx, path, []string{id.Recipient().String()},
		store.Options{Identities: []age.Identity{id}})
	if err != nil {
		log.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		for name, v := range map[string][2]string{
			"API_KEY":     {"k-123", "third-party api"},
			"DB_PASSWORD": {"s3cr\x00t", "postgres, prod"},
		} {
			if err := tx.Set(name, []byte(v[0])); err != nil {
				return err
			}
			if err := tx.SetDescription(name, v[1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}
