package formats

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// ToolHive's encrypted store, as read by ParseToolHive.
const (
	toolhivePrefix    = "__thv_"
	toolhiveNonceLen  = 12
	toolhiveTagLen    = 16
	toolhiveMagic     = "THVSEC" // starts a framed file
	toolhiveVersion   = 1        // the framed format version read here
	toolhiveHeaderLen = len(toolhiveMagic) + 1 + 16
)

// ParseToolHive decrypts a ToolHive encrypted secrets file and returns its
// secrets under hush names. Both of ToolHive's formats are read:
//
//   - the original one: AES-256-GCM with the key SHA-256(password); the
//     file is a 12-byte nonce, the ciphertext and the 16-byte tag;
//   - the framed one that current ToolHive writes (and converts original
//     files to when it opens them): "THVSEC", a version byte 1, a 16-byte
//     salt, then a body as above whose key is Argon2id(password, salt,
//     time 2, memory 19456 KiB, 1 thread).
//
// The plaintext is the JSON document {"secrets": {name: value}}.
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
	key, body, err := toolhiveKey(data, password)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("formats: toolhive: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("formats: toolhive: %w", err)
	}
	plain, err := gcm.Open(nil, body[:toolhiveNonceLen], body[toolhiveNonceLen:], nil)
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

// toolhiveKey derives the key of a ToolHive file and returns it with the
// encrypted body that follows the header, if any.
// Errors are those of ParseToolHive; a body too short to hold a nonce and a
// tag is refused before the (deliberately slow) key derivation.
func toolhiveKey(data, password []byte) (key, body []byte, err error) {
	short := func(what string) error {
		return &toolhiveDecryptError{fmt.Sprintf("file is %d bytes, shorter than %s (truncated?)", len(data), what)}
	}
	if !bytes.HasPrefix(data, []byte(toolhiveMagic)) {
		if len(data) < toolhiveNonceLen+toolhiveTagLen {
			return nil, nil, short("a nonce and a tag")
		}
		k := sha256.Sum256(password)
		return k[:], data, nil
	}
	if len(data) < toolhiveHeaderLen {
		return nil, nil, short("its header")
	}
	if v := data[len(toolhiveMagic)]; v != toolhiveVersion {
		return nil, nil, &ParseError{Format: "toolhive", Reason: fmt.Sprintf("file format version %d is not supported (this hush reads version %d)", v, toolhiveVersion)}
	}
	if len(data) < toolhiveHeaderLen+toolhiveNonceLen+toolhiveTagLen {
		return nil, nil, short("its header, a nonce and a tag")
	}
	salt := data[len(toolhiveMagic)+1 : toolhiveHeaderLen]
	return argon2.IDKey(password, salt, 2, 19456, 1, 32), data[toolhiveHeaderLen:], nil
}

// toolhiveDecryptError wraps store.ErrDecrypt, the one cannot-decrypt
// error of hush, with a message about the ToolHive file.
type toolhiveDecryptError struct{ reason string }

func (e *toolhiveDecryptError) Error() string {
	return "formats: toolhive: cannot decrypt: " + e.reason
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
