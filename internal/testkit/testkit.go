// Package testkit holds plain helpers that the tests of several packages
// share: age encryption and decryption with the age library alone (no hush
// code in between), the store's plaintext document as encoding/json
// reads it, and which goroutines are still at work in a function (Working).
// It imports nothing of this module, so the tests of every
// package, store's own internal tests included, can use it.
package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// Encrypt encrypts plain to the recipients with age alone and returns the
// binary age file. It fails t on any error.
func Encrypt(t testing.TB, plain []byte, recipients ...age.Recipient) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, recipients...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Armor returns an age file in age's ASCII armor (PEM-like text), as
// age -a writes it. It fails t on any error.
func Armor(t testing.TB, file []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	if _, err := aw.Write(file); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Decrypt decrypts an age file, binary or armored, with age alone and
// returns its plaintext. On failure it returns nil and age's error
// unchanged, so a caller can check it with errors.Is or word its own
// message.
func Decrypt(file []byte, ids ...age.Identity) ([]byte, error) {
	var r io.Reader = bytes.NewReader(file)
	if bytes.HasPrefix(file, []byte(armor.Header)) {
		r = armor.NewReader(r)
	}
	pr, err := age.Decrypt(r, ids...)
	if err != nil {
		return nil, err
	}
	plain, err := io.ReadAll(pr)
	if err != nil {
		return nil, err
	}
	return plain, nil
}

// JSONDoc is the store's plaintext document as any JSON tool sees it,
// decoded with encoding/json and not with the store's own codec.
type JSONDoc struct {
	Version    int                  `json:"version"`
	Recipients []string             `json:"recipients"`
	Entries    map[string]JSONEntry `json:"entries"`
	StoreKey   []byte               `json:"store_key"`
	Rotations  [][]byte             `json:"rotations"`
}

// JSONEntry is one entry of a [JSONDoc].
type JSONEntry struct {
	Value       string    `json:"value"`
	Encoding    string    `json:"encoding"`
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

// DecodeJSONDoc decodes plain with encoding/json, refusing fields the
// document does not have. On failure it returns encoding/json's error.
func DecodeJSONDoc(plain []byte) (JSONDoc, error) {
	var d JSONDoc
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	err := dec.Decode(&d)
	return d, err
}
