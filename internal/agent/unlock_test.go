package agent

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"testing"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"

	"github.com/hush-secrets/hush/store"
)

// counting returns a passphrase source that answers pass and counts calls.
func counting(pass string, n *int) store.IdentityOptions {
	return store.IdentityOptions{Passphrase: func(string) ([]byte, error) {
		*n++
		return []byte(pass), nil
	}}
}

// checkUnlock parses data, unlocks it with the right passphrase (one
// prompt), then unwraps a stanza for recipient with no further prompt;
// with a wrong passphrase Unlock fails.
func checkUnlock(t *testing.T, data []byte, r age.Recipient) {
	t.Helper()
	var n int
	ids, err := store.ParseIdentities("id", data, counting("right", &n))
	if err != nil {
		t.Fatal(err)
	}
	if err := Unlock("id", data, ids); err != nil || n != 1 {
		t.Fatalf("unlock: %v after %d prompts", err, n)
	}
	key := make([]byte, 16)
	rand.Read(key)
	stanzas, _ := r.Wrap(key)
	for _, id := range ids {
		if got, err := id.Unwrap(stanzas); err == nil && bytes.Equal(got, key) {
			if n != 1 {
				t.Fatalf("%d prompts after unlock", n)
			}
			ids, _ = store.ParseIdentities("id", data, counting("wrong", &n))
			if err := Unlock("id", data, ids); err == nil {
				t.Fatal("a wrong passphrase unlocked")
			}
			return
		}
	}
	t.Fatal("no identity unwrapped the file key")
}

func TestUnlockPassphraseIdentityFile(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	sr, _ := age.NewScryptRecipient("right")
	sr.SetWorkFactor(10)
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, sr)
	w.Write([]byte(id.String() + "\n"))
	w.Close()
	checkUnlock(t, buf.Bytes(), id.Recipient())
}

func TestUnlockPassphraseSSHKey(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("right"))
	if err != nil {
		t.Fatal(err)
	}
	sshPub, _ := ssh.NewPublicKey(pub)
	r, err := agessh.NewEd25519Recipient(sshPub)
	if err != nil {
		t.Fatal(err)
	}
	checkUnlock(t, pem.EncodeToMemory(block), r)
}

func TestUnlockPlainNeedsNothing(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	data := []byte(id.String() + "\n")
	var n int
	ids, _ := store.ParseIdentities("id", data, counting("x", &n))
	if err := Unlock("id", data, ids); err != nil || n != 0 {
		t.Fatalf("unlock of a plain identity: %v, %d prompts", err, n)
	}
	if _, err := ids[0].Unwrap(nil); !errors.Is(err, age.ErrIncorrectIdentity) {
		t.Fatal(err)
	}
}
