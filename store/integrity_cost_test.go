package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

// BenchmarkCheckCost times what the integrity check adds to a first read
// of an accepted store, alone: loading the state's head, the file's digest
// (from the state: the same file as last read) and the verdict. Compare
// it with BenchmarkIntegrity/GetFirst (package store_test).
func BenchmarkCheckCost(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			id, _ := age.GenerateX25519Identity()
			path := filepath.Join(b.TempDir(), "store.age")
			opts := Options{Identities: []age.Identity{id}, StateDir: filepath.Join(b.TempDir(), "state")}
			f, err := Create(ctx, path, []string{id.Recipient().String()}, opts)
			if err != nil {
				b.Fatal(err)
			}
			err = f.Update(ctx, func(tx Tx) error {
				for i := range n {
					if err := tx.Set(fmt.Sprintf("SERVICE_%05d_API_TOKEN", i), []byte("tok")); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			g, _ := Open(path, opts)
			if _, err := g.List(ctx); err != nil {
				b.Fatal(err)
			}
			d, id2, _, err := g.decryptFile()
			if err != nil {
				b.Fatal(err)
			}
			fh, _ := openRegular(path)
			defer fh.Close()
			for b.Loop() {
				st, err := g.loadStateTo(true)
				if err != nil || st == nil {
					b.Fatal(err)
				}
				sum, _ := fileDigest(st, fh, id2)
				if judge(st, d.key, d.rotations, sum) != verdictSame || !st.saw(sum) {
					b.Fatal("not the accepted version")
				}
			}
		})
	}
}
