package migrate

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// ToolHive's encrypted store, as read by ParseToolHive.
const (
	toolhivePrefix   = "__thv_"
	toolhiveNonceLen = 12
	toolhiveTagLen   = 16
)

// ParseToolHive decrypts a ToolHive encrypted secrets file and returns its
// secrets under hush names. The format: AES-256-GCM with the key
// SHA-256(password); the file is a 12-byte nonce, the ciphertext and the
// 16-byte tag; the plaintext is the JSON document {"secrets": {name: value}}.
//
// ToolHive's reserved keys __thv_<scope>_<name> become hush's reserved keys
// __hush_<scope>_<name>, so a program's scoped secrets stay in their scope
// (import them through the raw store, not a User view). Other names are
// kept as they are. A ToolHive scope that is not a valid hush scope, a name
// already in hush's reserved namespace, or a name the store cannot hold is
// an error naming the key.
//
// A wrong password, a truncated file and any tampering are errors wrapping
// store.ErrDecrypt. Errors never contain a value.
func ParseToolHive(data, password []byte) ([]Secret, error) {
	if len(data) < toolhiveNonceLen+toolhiveTagLen {
		return nil, &toolhiveDecryptError{fmt.Sprintf("file is %d bytes, shorter than a nonce and a tag (truncated?)", len(data))}
	}
	key := sha256.Sum256(password)
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("migrate: toolhive: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("migrate: toolhive: %w", err)
	}
	plain, err := gcm.Open(nil, data[:toolhiveNonceLen], data[toolhiveNonceLen:], nil)
	if err != nil {
		return nil, &toolhiveDecryptError{"wrong password, or the file is truncated or corrupt"}
	}
	var doc struct {
		Secrets json.RawMessage `json:"secrets"`
	}
	if err := json.Unmarshal(plain, &doc); err != nil {
		return nil, &ParseError{Format: "toolhive", Reason: "decrypted contents are not the expected JSON document"}
	}
	if len(doc.Secrets) == 0 || string(doc.Secrets) == "null" {
		return nil, nil
	}
	secrets, err := parseFlatJSON("toolhive", doc.Secrets)
	if err != nil {
		if pe, ok := err.(*ParseError); ok {
			pe.Line = 0 // a line of the decrypted plaintext means nothing to the user
		}
		return nil, err
	}
	for i := range secrets {
		name, err := toolhiveName(secrets[i].Name)
		if err != nil {
			return nil, err
		}
		secrets[i].Name = name
	}
	return secrets, nil
}

// toolhiveDecryptError wraps store.ErrDecrypt, the one cannot-decrypt
// error of hush, with a message about the ToolHive file.
type toolhiveDecryptError struct{ reason string }

func (e *toolhiveDecryptError) Error() string {
	return "migrate: toolhive: cannot decrypt: " + e.reason
}
func (e *toolhiveDecryptError) Unwrap() error { return store.ErrDecrypt }

// toolhiveName maps a ToolHive key to its hush name.
func toolhiveName(key string) (string, error) {
	bad := func(format string, args ...any) error {
		return &ParseError{Format: "toolhive", Reason: "name " + quote(key) + ": " + fmt.Sprintf(format, args...)}
	}
	name := key
	if rest, ok := strings.CutPrefix(key, toolhivePrefix); ok {
		sc, n, ok := strings.Cut(rest, "_")
		if !ok || n == "" {
			return "", bad("a reserved ToolHive key without a scope and a name")
		}
		if err := scope.ValidateScope(sc); err != nil {
			return "", bad("%v", err)
		}
		name = scope.Key(sc, n)
	} else if scope.IsReserved(key) {
		return "", bad("a name in hush's reserved namespace %s", scope.Prefix)
	}
	if err := store.ValidateName(name); err != nil {
		return "", bad("%v", err)
	}
	return name, nil
}
