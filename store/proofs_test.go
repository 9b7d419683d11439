package store

// Helpers shared by the crypto and format proofs: identity_test.go,
// recipients_test.go, tamper_test.go, cctv_test.go, compat_test.go,
// values_test.go, perms_test.go and document_test.go. Everything here is
// real: real files, real age encryption, the real age CLI and plugin.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// ageVersion is the age release whose CLI and plugin the interop tests use
// (the one .ci/run installs).
const ageVersion = "v1.3.2"

// tempStorePath returns a store path inside a fresh temporary directory.
func tempStorePath(t testing.TB) string { return filepath.Join(t.TempDir(), "store.age") }

// mustCreate creates a store at a fresh path, encrypted to recipients.
func mustCreate(t testing.TB, recipients []string, opts Options) (*File, string) {
	t.Helper()
	p := tempStorePath(t)
	f, err := Create(context.Background(), p, recipients, opts)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return f, p
}

// mustOpen opens path as a fresh File: no cache shared with any other.
func mustOpen(t testing.TB, path string, opts Options) *File {
	t.Helper()
	f, err := Open(path, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return f
}

func newX25519(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newHybrid(t testing.TB) *age.HybridIdentity {
	t.Helper()
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// mustParseIdentities parses identity material as hush reads identity files.
func mustParseIdentities(t testing.TB, name string, data []byte, o IdentityOptions) []age.Identity {
	t.Helper()
	ids, err := ParseIdentities(name, data, o)
	if err != nil {
		t.Fatalf("parse identities %s: %v", name, err)
	}
	return ids
}

func mustReadFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustWriteFile(t testing.TB, p string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile's mode is cut by the umask
		t.Fatal(err)
	}
}

// jsonDoc is the plaintext document as any JSON tool sees it, decoded
// with encoding/json and not with the store's own codec.
type jsonDoc struct {
	Version    int                  `json:"version"`
	Recipients []string             `json:"recipients"`
	Entries    map[string]jsonEntry `json:"entries"`
	StoreKey   []byte               `json:"store_key"`
	Rotations  [][]byte             `json:"rotations"`
}

type jsonEntry struct {
	Value       string    `json:"value"`
	Encoding    string    `json:"encoding"`
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

func decodeJSONDoc(t testing.TB, plain []byte) jsonDoc {
	t.Helper()
	var d jsonDoc
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("plaintext is not the JSON store document: %v", err)
	}
	return d
}

// ageDecryptFile decrypts a store file with the age library alone (no hush
// code) and returns the plaintext.
func ageDecryptFile(t testing.TB, path string, ids ...age.Identity) ([]byte, error) {
	t.Helper()
	b := mustReadFile(t, path)
	var r io.Reader = bytes.NewReader(b)
	if bytes.HasPrefix(b, []byte(armor.Header)) {
		r = armor.NewReader(r)
	}
	pr, err := age.Decrypt(r, ids...)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(pr)
}

// mustAgeDecryptFile is ageDecryptFile that fails the test on error and decodes
// the document.
func mustAgeDecryptFile(t testing.TB, path string, ids ...age.Identity) jsonDoc {
	t.Helper()
	plain, err := ageDecryptFile(t, path, ids...)
	if err != nil {
		t.Fatalf("age cannot decrypt %s: %v", filepath.Base(path), err)
	}
	return decodeJSONDoc(t, plain)
}

var (
	toolMu   sync.Mutex
	toolDirs = map[string]string{}
)

// toolPath returns the path of an age v1.3.2 command (age, age-keygen,
// age-plugin-batchpass): from PATH, else from $(go env GOPATH)/bin where
// .ci/run installs them, else built with `go install` into a temporary
// GOBIN of t. It skips t, saying why, only if that install fails.
func toolPath(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	gobin := filepath.Join(goEnv(t, "GOPATH"), "bin")
	if p := filepath.Join(gobin, name); isRegularFile(p) {
		return p
	}
	toolMu.Lock()
	defer toolMu.Unlock()
	if dir, ok := toolDirs[name]; ok && isRegularFile(filepath.Join(dir, name)) {
		return filepath.Join(dir, name)
	}
	dir := t.TempDir()
	cmd := exec.Command(goCommand(), "install", "filippo.io/age/cmd/...@"+ageVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("%s is not on PATH and `go install filippo.io/age/cmd/...@%s` failed (%v); .ci/run installs it:\n%s", name, ageVersion, err, out)
	}
	toolDirs[name] = dir
	return filepath.Join(dir, name)
}

func isRegularFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// goCommand is the go command: go test puts its own GOROOT/bin first on PATH.
func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

func goEnv(t *testing.T, key string) string {
	out, err := exec.Command(goCommand(), "env", key).Output()
	if err != nil {
		t.Logf("go env %s: %v", key, err)
		return ""
	}
	return strings.TrimSpace(string(out))
}

// sshKeygen runs ssh-keygen to make a key in a temporary directory and
// returns the private key's path and the public key line. It skips t only
// if ssh-keygen is missing (.ci/run installs openssh-client).
func sshKeygen(t *testing.T, args ...string) (keyPath, pub string) {
	t.Helper()
	bin, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen is not installed (apt-get install openssh-client; .ci/run does): cannot make SSH keys")
	}
	keyPath = filepath.Join(t.TempDir(), "id_key")
	cmd := exec.Command(bin, append([]string{"-q", "-f", keyPath, "-C", "hush-test"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen %v: %v\n%s", args, err, out)
	}
	return keyPath, strings.TrimSpace(string(mustReadFile(t, keyPath+".pub")))
}

// checkRoundTrip proves that a store encrypted to recipient works end to end
// with ids: create, write, read back through a fresh File, write again
// from that File (the recipient comes from the document, the writer needs
// only an identity), read again, and that another identity cannot read it.
func checkRoundTrip(t *testing.T, recipient string, ids []age.Identity) {
	t.Helper()
	ctx := context.Background()
	f, p := mustCreate(t, []string{recipient}, Options{Identities: ids})
	val := []byte("first\x00\xff\xfe value\n")
	if err := f.Set(ctx, "TOKEN", val); err != nil {
		t.Fatalf("set: %v", err)
	}
	g := mustOpen(t, p, Options{Identities: ids})
	if got, err := g.Get(ctx, "TOKEN"); err != nil || !bytes.Equal(got, val) {
		t.Fatalf("get through a fresh File = %q, %v; want %q", got, err, val)
	}
	if err := g.Set(ctx, "SECOND", []byte("2")); err != nil {
		t.Fatalf("set from a File opened with only an identity: %v", err)
	}
	h := mustOpen(t, p, Options{Identities: ids})
	for name, want := range map[string][]byte{"TOKEN": val, "SECOND": []byte("2")} {
		if got, err := h.Get(ctx, name); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("get %s after the second write = %q, %v", name, got, err)
		}
	}
	rs, err := h.Recipients(ctx)
	if err != nil || len(rs) != 1 || rs[0] != recipient {
		t.Fatalf("recipients = %q, %v; want [%q]", rs, err, recipient)
	}
	stranger := mustOpen(t, p, Options{Identities: []age.Identity{newX25519(t)}})
	if v, err := stranger.Get(ctx, "TOKEN"); !errors.Is(err, ErrDecrypt) || v != nil {
		t.Fatalf("get with a stranger's identity = %q, %v; want ErrDecrypt and no data", v, err)
	}
}
