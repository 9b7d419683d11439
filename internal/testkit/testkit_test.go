package testkit

import (
	"bytes"
	"errors"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// TestEncryptDecrypt: what Encrypt writes, Decrypt reads back, binary or
// armored by Armor; the wrong identity gets age's own error.
func TestEncryptDecrypt(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	ct := Encrypt(t, []byte("hello"), id.Recipient())
	armored := Armor(t, ct)
	if !bytes.HasPrefix(armored, []byte(armor.Header)) {
		t.Fatalf("Armor wrote %q", armored)
	}
	for name, file := range map[string][]byte{"binary": ct, "armored": armored} {
		if plain, err := Decrypt(file, id); err != nil || string(plain) != "hello" {
			t.Errorf("%s: decrypted %q, %v; want hello", name, plain, err)
		}
	}
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	var noMatch *age.NoIdentityMatchError
	if plain, err := Decrypt(ct, other); plain != nil || !errors.As(err, &noMatch) {
		t.Errorf("with another identity: %q, %v; want age's NoIdentityMatchError", plain, err)
	}
}

// TestDecodeJSONDoc: the document decodes, and a field it does not have is
// refused.
func TestDecodeJSONDoc(t *testing.T) {
	d, err := DecodeJSONDoc([]byte(`{"version":1,"recipients":["age1x"],"entries":{"A":{"value":"/w==","encoding":"base64"}}}`))
	if err != nil || d.Version != 1 || len(d.Recipients) != 1 || d.Entries["A"].Encoding != "base64" {
		t.Fatalf("decoded %+v, %v", d, err)
	}
	if _, err := DecodeJSONDoc([]byte(`{"version":1,"extra":true}`)); err == nil {
		t.Error("a field the document does not have was accepted")
	}
}
