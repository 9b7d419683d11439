package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	"github.com/hush-secrets/hush/internal/testkit"
)

// TestRekey checks that rekey changes the file's bytes (a fresh file key)
// but not its plaintext: the same document, so the same entries, values,
// metadata and recipients; and that --dry-run leaves the file as it was.
func TestRekey(t *testing.T) {
	home := t.TempDir()
	env := []string{"HOME=" + home}
	storePath := filepath.Join(home, ".local/share/hush/store.age")
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	runHushInProcess(t, env, "", "init")
	runHushInProcess(t, env, "", "recipients", "add", other.Recipient().String())
	runHushInProcess(t, env, "s3cret", "set", "A", "--description", "d")
	runHushInProcess(t, env, "t0ken", "--scope", "app", "set", "B")
	ids := identitiesIn(t, filepath.Join(home, ".config/hush/identity.txt"))
	plaintext := func(ct []byte, ids ...age.Identity) []byte {
		t.Helper()
		r, err := age.Decrypt(bytes.NewReader(ct), ids...)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	before, err := os.ReadFile(storePath)
	if err != nil {
		t.Fatal(err)
	}

	out := runHushInProcess(t, env, "", "rekey", "--dry-run")
	if !strings.Contains(string(out), "would re-encrypt") || !strings.Contains(string(out), other.Recipient().String()) {
		t.Errorf("--dry-run printed %q", out)
	}
	if after, _ := os.ReadFile(storePath); !bytes.Equal(after, before) {
		t.Fatal("--dry-run changed the store file")
	}

	runHushInProcess(t, env, "", "rekey")
	after, err := os.ReadFile(storePath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(after, before) {
		t.Fatal("rekey left the file's bytes as they were")
	}
	// The content and recipients stay; the store key is fresh, with a
	// proof that the writer knew the one before (SPEC: rekey).
	b, err := testkit.DecodeJSONDoc(plaintext(before, ids...))
	if err != nil {
		t.Fatal(err)
	}
	a, err := testkit.DecodeJSONDoc(plaintext(after, ids...))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b.Entries, a.Entries); diff != "" || !slices.Equal(a.Recipients, b.Recipients) {
		t.Errorf("rekey changed the content or recipients (-before +after):\n%s", diff)
	}
	if len(a.StoreKey) == 0 || bytes.Equal(a.StoreKey, b.StoreKey) || len(a.Rotations) != len(b.Rotations)+1 {
		t.Errorf("rekey did not rotate the store key with a proof: key %x -> %x, %d -> %d proofs", b.StoreKey, a.StoreKey, len(b.Rotations), len(a.Rotations))
	}
	if !bytes.Equal(plaintext(after, other), plaintext(after, ids...)) {
		t.Error("the other recipient cannot read the rekeyed store the same")
	}
	if fileKeyStanzas(before) == fileKeyStanzas(after) {
		t.Error("the header's wrapped file keys did not change")
	}
}

// fileKeyStanzas returns the header of an age file, which holds the file
// key wrapped for each recipient.
func fileKeyStanzas(ct []byte) string {
	h, _, _ := bytes.Cut(ct, []byte("\n---"))
	return string(h)
}
