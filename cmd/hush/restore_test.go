package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/hush-secrets/hush/internal/testkit"
	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

// readContents opens the store at path with ids and returns everything it
// holds, reserved keys included, read through package store.
func readContents(t *testing.T, path string, ids []age.Identity) map[string]storetest.Content {
	t.Helper()
	f, err := store.Open(path, store.Options{Identities: ids})
	if err != nil {
		t.Fatal(err)
	}
	return storetest.Contents(t, f)
}

func identitiesIn(t *testing.T, path string) []age.Identity {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestRestoreFixtureStores takes each store of fixtures/store-v1 through
// the recovery path: age decrypts it, hush init makes a new store, hush
// restore fills it, and the new store holds exactly what the fixture
// holds: names (reserved keys included), bytes, descriptions and times.
func TestRestoreFixtureStores(t *testing.T) {
	fixtures, _ := filepath.Glob("../../fixtures/store-v1/*.age")
	if len(fixtures) == 0 {
		t.Fatal("no fixture stores in fixtures/store-v1")
	}
	fixtureIDs := identitiesIn(t, "../../fixtures/store-v1/identity.txt")
	for _, fixture := range fixtures {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			ct, err := os.ReadFile(fixture)
			if err != nil {
				t.Fatal(err)
			}
			orig := filepath.Join(t.TempDir(), "orig.age")
			if err := os.WriteFile(orig, ct, 0o600); err != nil {
				t.Fatal(err)
			}
			plain, err := testkit.Decrypt(ct, fixtureIDs...)
			if err != nil {
				t.Fatal(err)
			}
			home := t.TempDir()
			doc := filepath.Join(home, "store.json")
			if err := os.WriteFile(doc, plain, 0o600); err != nil {
				t.Fatal(err)
			}
			env := []string{"HOME=" + home}
			runHushInProcess(t, env, "", "init")
			runHushInProcess(t, env, "", "restore", doc)

			want := readContents(t, orig, fixtureIDs)
			got := readContents(t, filepath.Join(home, ".local/share/hush/store.age"),
				identitiesIn(t, filepath.Join(home, ".config/hush/identity.txt")))
			if len(want) < 8 {
				t.Fatalf("the fixture holds %d entries, not the 8 fixtures/README.md lists", len(want))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("restored store differs from the fixture (-fixture +restored):\n%s", diff)
			}
		})
	}
}

// TestReadmeRecoveryRecipe checks that the shell blocks of README's
// recovery section are, verbatim, the recipe restore.txtar runs.
func TestReadmeRecoveryRecipe(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(readme, []byte("\n## Recovery"))
	if start < 0 {
		t.Fatal("README.md has no recovery section")
	}
	section := string(readme[start+1:])
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1)
	ar, err := txtar.ParseFile("testdata/script/restore.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var script []string
	for _, f := range ar.Files {
		if strings.HasPrefix(f.Name, "readme-recovery-") {
			script = append(script, string(f.Data))
		}
	}
	var readmeBlocks []string
	for _, b := range blocks {
		readmeBlocks = append(readmeBlocks, b[1])
	}
	if len(script) != 2 {
		t.Fatalf("restore.txtar has %d readme-recovery-*.sh files, want 2", len(script))
	}
	if diff := cmp.Diff(script, readmeBlocks); diff != "" {
		t.Errorf("README's recovery blocks differ from what restore.txtar runs (-txtar +README):\n%s", diff)
	}
}
