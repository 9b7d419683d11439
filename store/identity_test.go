package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/testkit"
)

// Every identity kind age supports opens a real store, read back through
// a fresh File and written again by a File that holds only the identity.

func TestIdentityKindX25519(t *testing.T) {
	id := newX25519(t)
	text := "# created: 2024-01-01\n# public key: " + id.Recipient().String() + "\n\n" + id.String() + "\n"
	checkRoundTrip(t, id.Recipient().String(), mustParseIdentities(t, "id.txt", []byte(text), IdentityOptions{}))
}

func TestIdentityKindHybrid(t *testing.T) {
	id := newHybrid(t)
	r := id.Recipient().String()
	if !strings.HasPrefix(r, "age1pq1") {
		t.Fatalf("hybrid recipient %.12q... lacks the age1pq1 prefix", r)
	}
	checkRoundTrip(t, r, mustParseIdentities(t, "id.txt", []byte(id.String()+"\n"), IdentityOptions{}))
}

func TestIdentityKindSSH(t *testing.T) {
	for _, kind := range [][]string{{"-t", "ed25519"}, {"-t", "rsa", "-b", "2048"}} {
		t.Run(kind[1], func(t *testing.T) {
			key, pub := sshKeygen(t, append(kind, "-N", "")...)
			ids := mustParseIdentities(t, key, mustReadFile(t, key), IdentityOptions{})
			checkRoundTrip(t, pub, ids)
		})
	}
}

// A passphrase-protected SSH key asks for its passphrase only when a file
// has a stanza for that key, at most once, even under concurrent reads.
func TestIdentityKindSSHPassphrase(t *testing.T) {
	// Few bcrypt KDF rounds (-a 2) keep this fast under -race; the code
	// path is the same at ssh-keygen's default of 16.
	kinds := map[string][]string{
		"ed25519": {"-t", "ed25519", "-a", "2"},
		"rsa":     {"-t", "rsa", "-b", "2048", "-a", "2"},
		"rsa-pem": {"-t", "rsa", "-b", "2048", "-m", "PEM"}, // legacy format: public key from .pub
	}
	for name, args := range kinds {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			key, pub := sshKeygen(t, append(args, "-N", "s3cret pass")...)
			var calls atomic.Int32
			ask := func(prompt string) ([]byte, error) {
				calls.Add(1)
				if !strings.Contains(prompt, key) {
					t.Errorf("prompt %q does not name the key file", prompt)
				}
				return []byte("s3cret pass"), nil
			}
			ids := mustParseIdentities(t, key, mustReadFile(t, key), IdentityOptions{Passphrase: ask})
			if n := calls.Load(); n != 0 {
				t.Fatalf("parsing asked for the passphrase %d times; want 0", n)
			}

			// Not needed: a store for another identity, tried after the SSH key.
			other := newX25519(t)
			of, _ := mustCreate(t, []string{other.Recipient().String()}, Options{Identities: []age.Identity{other}})
			if err := of.Set(ctx, "K", []byte("v")); err != nil {
				t.Fatal(err)
			}
			both := append(append([]age.Identity(nil), ids...), other)
			if v, err := mustOpen(t, of.Path(), Options{Identities: both}).Get(ctx, "K"); err != nil || string(v) != "v" {
				t.Fatalf("get = %q, %v", v, err)
			}
			if n := calls.Load(); n != 0 {
				t.Fatalf("a store without a stanza for the SSH key asked for its passphrase %d times", n)
			}

			checkRoundTrip(t, pub, ids)
			if n := calls.Load(); n != 1 {
				t.Fatalf("passphrase asked %d times over several decryptions; want exactly 1", n)
			}

			// Concurrent first reads by one File share one prompt, race-free.
			var calls2 atomic.Int32
			ids2 := mustParseIdentities(t, key, mustReadFile(t, key), IdentityOptions{Passphrase: func(string) ([]byte, error) {
				calls2.Add(1)
				return []byte("s3cret pass"), nil
			}})
			f, p := mustCreate(t, []string{pub}, Options{Identities: []age.Identity{newX25519(t)}})
			_ = f
			g := mustOpen(t, p, Options{Identities: ids2})
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := g.List(ctx); err != nil {
						t.Errorf("concurrent list: %v", err)
					}
				}()
			}
			wg.Wait()
			if n := calls2.Load(); n != 1 {
				t.Errorf("concurrent first reads asked %d times; want 1", n)
			}

			// Wrong passphrase, or none available: ErrDecrypt on use.
			wrong := mustParseIdentities(t, key, mustReadFile(t, key), IdentityOptions{Passphrase: func(string) ([]byte, error) { return []byte("wrong"), nil }})
			if v, err := mustOpen(t, p, Options{Identities: wrong}).Get(ctx, "TOKEN"); !errors.Is(err, ErrDecrypt) || v != nil {
				t.Fatalf("wrong passphrase: get = %q, %v; want ErrDecrypt", v, err)
			}
			none := mustParseIdentities(t, key, mustReadFile(t, key), IdentityOptions{})
			_, err := mustOpen(t, p, Options{Identities: none}).List(ctx)
			if !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), "passphrase") {
				t.Fatalf("no passphrase source: list error = %v; want ErrDecrypt naming the passphrase", err)
			}
		})
	}
}

// A passphrase-encrypted age identity file (age -p of an identity) is
// decrypted lazily, once; a wrong passphrase is ErrDecrypt on use.
func TestIdentityKindEncryptedFile(t *testing.T) {
	for _, armored := range []bool{false, true} {
		t.Run(fmt.Sprintf("armored=%v", armored), func(t *testing.T) {
			ctx := context.Background()
			inner := newX25519(t)
			data := scryptEncrypt(t, "id pass", []byte("# inner\n"+inner.String()+"\n"), armored)
			var calls atomic.Int32
			ask := func(prompt string) ([]byte, error) {
				calls.Add(1)
				return []byte("id pass"), nil
			}
			ids := mustParseIdentities(t, "id.txt.age", data, IdentityOptions{Passphrase: ask})
			if n := calls.Load(); n != 0 {
				t.Fatalf("parsing asked for the passphrase %d times; want 0 (lazy)", n)
			}
			checkRoundTrip(t, inner.Recipient().String(), ids)
			if n := calls.Load(); n != 1 {
				t.Fatalf("passphrase asked %d times; want 1", n)
			}

			_, p := mustCreate(t, []string{inner.Recipient().String()}, Options{Identities: []age.Identity{inner}})
			wrong := mustParseIdentities(t, "id.txt.age", data, IdentityOptions{Passphrase: func(string) ([]byte, error) { return []byte("nope"), nil }})
			_, err := mustOpen(t, p, Options{Identities: wrong}).List(ctx)
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("wrong passphrase: %v; want ErrDecrypt", err)
			}
			if strings.Contains(err.Error(), "nope") || strings.Contains(err.Error(), inner.String()) {
				t.Fatalf("error leaks a secret: %v", err)
			}
			none := mustParseIdentities(t, "id.txt.age", data, IdentityOptions{})
			if _, err := mustOpen(t, p, Options{Identities: none}).List(ctx); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("no passphrase source: %v; want ErrDecrypt", err)
			}
		})
	}
}

// scryptEncrypt encrypts plain to a passphrase with a low work factor,
// armored if asked.
func scryptEncrypt(t testing.TB, pass string, plain []byte, armored bool) []byte {
	t.Helper()
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	ct := testkit.Encrypt(t, plain, r)
	if armored {
		return testkit.Armor(t, ct)
	}
	return ct
}

// Identity parse errors name the file and line but never echo key material.
func TestIdentityParseErrorsHideKeys(t *testing.T) {
	x := newX25519(t).String()
	h := newHybrid(t).String()
	flip := func(s string, i int) string { // change one data character: checksum fails
		b := []byte(s)
		if b[i] == 'Q' {
			b[i] = 'P'
		} else {
			b[i] = 'Q'
		}
		return string(b)
	}
	cases := map[string]string{
		"x25519 checksum":   flip(x, len(x)-10),
		"x25519 truncated":  x[:len(x)-3],
		"x25519 trailing":   x + "QQ",
		"x25519 lowercase":  strings.ToLower(x),
		"x25519 bad prefix": strings.Replace(x, "AGE-SECRET-KEY-1", "AGE-SECRET-KEX-1", 1),
		"x25519 space":      x[:30] + " " + x[30:],
		"hybrid checksum":   flip(h, len(h)-10),
		"plugin checksum":   flip("AGE-PLUGIN-YUBIKEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", 40),
		"ssh corrupt":       "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBSECRETSECRETSECRETSECRETSECRETSECRETSECRETSEC\n-----END OPENSSH PRIVATE KEY-----\n",
	}
	for name, line := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseIdentities("id.txt", []byte("# comment\n"+line+"\n"), IdentityOptions{})
			if !errors.Is(err, ErrInvalidIdentity) {
				t.Fatalf("error = %v; want ErrInvalidIdentity", err)
			}
			checkNoKeyMaterial(t, err.Error(), line)
		})
	}
}

// checkNoKeyMaterial fails if msg contains the secret or any 12-byte run of
// it that is not part of a well-known prefix.
func checkNoKeyMaterial(t testing.TB, msg, secret string) {
	t.Helper()
	secret = strings.TrimSpace(secret)
	public := []string{"AGE-SECRET-KEY-PQ-1", "AGE-SECRET-KEY-1", "AGE-PLUGIN-YUBIKEY-1", "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----"}
	for _, line := range strings.Split(secret, "\n") {
		for _, p := range public {
			line = strings.ReplaceAll(line, p, "\x00")
		}
		for _, part := range strings.Split(line, "\x00") {
			for i := 0; i+12 <= len(part); i++ {
				if strings.Contains(strings.ToUpper(msg), strings.ToUpper(part[i:i+12])) {
					t.Fatalf("error message contains key material %q: %s", part[i:i+12], msg)
				}
			}
		}
	}
}
