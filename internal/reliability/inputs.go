package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"filippo.io/age"
)

// writeBadInputs creates the files the bad-input corpus refers to in the
// fixture's home/in directory.
func writeBadInputs(f *fixture) error {
	in := filepath.Join(f.home, inDir)
	if err := os.MkdirAll(in, 0o700); err != nil {
		return err
	}
	other, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	thv, err := toolhiveFile("pw", []byte(`{"secrets":{"T1":"v"}}`))
	if err != nil {
		return err
	}
	thvNotJSON, err := toolhiveFile("pw", []byte("not json"))
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data string
		mode os.FileMode
	}{
		{"identity-garbage.txt", "this is not an identity\n", 0o600},
		{"identity-empty.txt", "", 0o600},
		{"identity-0644.txt", f.id.String() + "\n", 0o644},
		{"identity-other.txt", other.String() + "\n", 0o600},
		{"recipients-bad.txt", "garbage\n", 0o600},
		{"bad-noeq.env", "GOOD=1\nFOO\n", 0o600},
		{"bad-escape.env", "FOO=\"a\\qb\"\n", 0o600},
		{"bad-quote.env", "FOO='abc\n", 0o600},
		{"bad-dup.env", "A=1\nA=2\n", 0o600},
		{"bad-reserved.env", "B=2\n__hush_ci_x=1\n", 0o600},
		{"clash.env", "NEWNAME=1\nexists=different\n", 0o600},
		{"bad.json", "{not json", 0o600},
		{"bad-number.json", `{"A": 1}`, 0o600},
		{"bad-array.env", `["A"]`, 0o600},
		{"good.env", "GOOD=1\n", 0o600},
		{"toolhive", string(thv), 0o600},
		{"toolhive-short", string(thv[:20]), 0o600},
		{"toolhive-notjson", string(thvNotJSON), 0o600},
		{"value-over.txt", strings.Repeat("v", 4<<20+1), 0o600},
		{"value-over.env", "A=" + strings.Repeat("v", 4<<20+1) + "\n", 0o600},
		{"identity-over.txt", strings.Repeat("#", 16<<20+1), 0o600},
	}
	for _, x := range files {
		p := filepath.Join(in, x.name)
		if err := os.WriteFile(p, []byte(x.data), x.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, x.mode); err != nil {
			return err
		}
	}
	return writeOddFiles(in)
}

// writeOddFiles makes the files in in that are not regular ones: a named
// pipe, symbolic links to it and to /dev/null, and a dangling one.
func writeOddFiles(in string) error {
	if err := syscall.Mkfifo(filepath.Join(in, "fifo"), 0o600); err != nil {
		return err
	}
	for link, to := range map[string]string{"link-to-fifo": "fifo", "link-to-null": os.DevNull, "dangling-out": filepath.Join(in, "planted-out")} {
		if err := os.Symlink(to, filepath.Join(in, link)); err != nil {
			return err
		}
	}
	return nil
}

// toolhiveFile encrypts plaintext as ToolHive's secrets_encrypted file:
// AES-256-GCM with key SHA-256(password), 12-byte nonce || ciphertext ||
// 16-byte tag.
func toolhiveFile(password string, plaintext []byte) ([]byte, error) {
	key := sha256.Sum256([]byte(password))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plaintext, nil), nil
}
