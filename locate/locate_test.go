package locate_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/testkit"
	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/store"
)

// env returns a Getenv over a fixed map, so tests do not depend on the
// process environment. HOME points nowhere useful unless set.
func env(m map[string]string) locate.Getenv {
	return func(k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		if k == "HOME" {
			return "/nonexistent-hush-test-home"
		}
		return ""
	}
}

func newIdentity(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// writeFile writes data with exactly mode, whatever the umask.
func writeFile(t testing.TB, p string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// identityFile writes an identity file with mode in dir and returns its
// path and the recipient of the identity in it.
func identityFile(t testing.TB, dir string, mode os.FileMode) (string, string) {
	t.Helper()
	id := newIdentity(t)
	p := filepath.Join(dir, fmt.Sprintf("id-%s.txt", id.Recipient().String()[4:12]))
	writeFile(t, p, []byte(id.String()+"\n"), mode)
	return p, id.Recipient().String()
}

// recipients returns the sorted recipients of ids.
func recipients(t testing.TB, ids []age.Identity) []string {
	t.Helper()
	var rs []string
	for _, id := range ids {
		r, ok := store.RecipientOf(id)
		if !ok {
			t.Fatalf("no recipient for a %T", id)
		}
		rs = append(rs, r)
	}
	slices.Sort(rs)
	return rs
}

func TestIdentities(t *testing.T) {
	dir := t.TempDir()
	fileA, recA := identityFile(t, dir, 0o600)
	fileB, recB := identityFile(t, dir, 0o600)
	fileC, recC := identityFile(t, dir, 0o600)
	loose, _ := identityFile(t, dir, 0o644)
	envID := newIdentity(t)
	recEnv := envID.Recipient().String()
	xdg := t.TempDir()
	defPath := filepath.Join(xdg, "hush", "identity.txt")
	def := newIdentity(t)
	writeFile(t, defPath, []byte(def.String()+"\n"), 0o600)
	corruptXDG := t.TempDir() // its default identity file is corrupt and loose
	writeFile(t, filepath.Join(corruptXDG, "hush", "identity.txt"), []byte("AGE-SECRET-KEY-1NOTAKEY\n"), 0o644)
	home := t.TempDir()
	homeID := newIdentity(t)
	homeDef := filepath.Join(home, ".config", "hush", "identity.txt")
	writeFile(t, homeDef, []byte(homeID.String()+"\n"), 0o600)

	all := map[string]string{"HUSH_IDENTITY": envID.String(), "HUSH_IDENTITY_FILE": fileC, "XDG_CONFIG_HOME": xdg}
	without := func(keys ...string) map[string]string {
		m := map[string]string{}
		for k, v := range all {
			m[k] = v
		}
		for _, k := range keys {
			delete(m, k)
		}
		return m
	}
	sorted := func(rs ...string) []string { slices.Sort(rs); return rs }
	tests := []struct {
		name  string
		files []string
		env   map[string]string
		from  string
		paths []string
		want  []string // exactly the recipients of the found identities
	}{
		{"flags win, all used", []string{fileA, fileB}, all, "--identity", []string{fileA, fileB}, sorted(recA, recB)},
		{"HUSH_IDENTITY next", nil, all, "HUSH_IDENTITY", nil, []string{recEnv}},
		{"HUSH_IDENTITY_FILE next", nil, without("HUSH_IDENTITY"), "HUSH_IDENTITY_FILE", []string{fileC}, []string{recC}},
		{"default path last", nil, without("HUSH_IDENTITY", "HUSH_IDENTITY_FILE"), defPath, []string{defPath}, []string{def.Recipient().String()}},
		{"HOME without XDG_CONFIG_HOME", nil, map[string]string{"HOME": home}, homeDef, []string{homeDef}, []string{homeID.Recipient().String()}},
		// First found wins: a later source is never read, even a broken one.
		{"later sources not read", nil, map[string]string{"HUSH_IDENTITY": envID.String(), "HUSH_IDENTITY_FILE": loose}, "HUSH_IDENTITY", nil, []string{recEnv}},
		{"default not read", nil, map[string]string{"HUSH_IDENTITY_FILE": fileC, "XDG_CONFIG_HOME": corruptXDG}, "HUSH_IDENTITY_FILE", []string{fileC}, []string{recC}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found, err := locate.Identities(locate.Options{Files: tt.files, Getenv: env(tt.env)})
			if err != nil {
				t.Fatalf("Identities: %v", err)
			}
			if found.From != tt.from {
				t.Errorf("From = %q; want %q", found.From, tt.from)
			}
			if !slices.Equal(found.Paths, tt.paths) {
				t.Errorf("Paths = %q; want %q", found.Paths, tt.paths)
			}
			if got := recipients(t, found.Identities); !slices.Equal(got, tt.want) {
				t.Errorf("found the identities of %q; want those of %q", got, tt.want)
			}
		})
	}

	t.Run("none found", func(t *testing.T) {
		_, err := locate.Identities(locate.Options{Getenv: env(map[string]string{"XDG_CONFIG_HOME": t.TempDir()})})
		if !errors.Is(err, store.ErrNoIdentity) {
			t.Fatalf("err = %v; want ErrNoIdentity", err)
		}
		for _, w := range []string{"--identity", "HUSH_IDENTITY", "HUSH_IDENTITY_FILE", "identity.txt"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say it looked at %s", err, w)
			}
		}
	})
	t.Run("missing flag file is an error, not a fallback", func(t *testing.T) {
		_, err := locate.Identities(locate.Options{Files: []string{fileA, filepath.Join(dir, "missing.txt")}, Getenv: env(all)})
		if !errors.Is(err, os.ErrNotExist) || errors.Is(err, store.ErrNoIdentity) {
			t.Fatalf("err = %v; want a not-exist error", err)
		}
	})
	t.Run("missing HUSH_IDENTITY_FILE is an error, not a fallback", func(t *testing.T) {
		_, err := locate.Identities(locate.Options{Getenv: env(map[string]string{"HUSH_IDENTITY_FILE": filepath.Join(dir, "missing.txt"), "XDG_CONFIG_HOME": xdg})})
		if !errors.Is(err, os.ErrNotExist) || errors.Is(err, store.ErrNoIdentity) {
			t.Fatalf("err = %v; want a not-exist error", err)
		}
	})
}

// An identity file that group or others can read is refused, naming it,
// wherever it was found; AllowInsecurePermissions accepts it, and
// HUSH_ALLOW_INSECURE_PERMS does not: locate never reads that variable,
// neither through Getenv nor from the process environment.
func TestIdentitiesPermissions(t *testing.T) {
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			dir := t.TempDir()
			p, rec := identityFile(t, dir, mode)
			xdg := t.TempDir()
			def := filepath.Join(xdg, "hush", "identity.txt")
			writeFile(t, def, bytes.Clone(readFile(t, p)), mode)
			sources := []struct {
				name string
				path string
				o    locate.Options
				env  map[string]string
			}{
				{"flag", p, locate.Options{Files: []string{p}}, nil},
				{"HUSH_IDENTITY_FILE", p, locate.Options{}, map[string]string{"HUSH_IDENTITY_FILE": p}},
				{"default path", def, locate.Options{}, map[string]string{"XDG_CONFIG_HOME": xdg}},
			}
			for _, src := range sources {
				o := src.o
				o.Getenv = env(src.env)
				_, err := locate.Identities(o)
				checkPermError(t, src.name, err, src.path)

				loosened := map[string]string{"HUSH_ALLOW_INSECURE_PERMS": "1"}
				for k, v := range src.env {
					loosened[k] = v
				}
				o.Getenv = env(loosened)
				_, err = locate.Identities(o)
				checkPermError(t, src.name+" with HUSH_ALLOW_INSECURE_PERMS=1 in Getenv", err, src.path)

				o.AllowInsecurePermissions = true
				found, err := locate.Identities(o)
				if err != nil {
					t.Fatalf("%s with AllowInsecurePermissions: %v", src.name, err)
				}
				if got := recipients(t, found.Identities); !slices.Equal(got, []string{rec}) {
					t.Fatalf("%s with AllowInsecurePermissions: found %q; want %s", src.name, got, rec)
				}
			}

			// Nor from the process environment behind a nil Getenv.
			t.Setenv("HUSH_ALLOW_INSECURE_PERMS", "1")
			t.Setenv("HUSH_IDENTITY", "")
			t.Setenv("HUSH_IDENTITY_FILE", p)
			_, err := locate.Identities(locate.Options{})
			checkPermError(t, "HUSH_ALLOW_INSECURE_PERMS=1 in the process environment", err, p)
		})
	}
	t.Run("owner-only modes", func(t *testing.T) {
		for _, mode := range []os.FileMode{0o600, 0o400, 0o700} {
			p, _ := identityFile(t, t.TempDir(), mode)
			if _, err := locate.Identities(locate.Options{Files: []string{p}, Getenv: env(nil)}); err != nil {
				t.Errorf("mode %04o refused: %v", mode, err)
			}
		}
	})
}

// An identity file owned by another user is refused, even 0600 (someone
// else chose that key); one owned by root is accepted. The owner is
// changed with chown, so this needs root.
func TestIdentityOwnedByAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another uid (chown)")
	}
	p, rec := identityFile(t, t.TempDir(), 0o600)
	if err := os.Chown(p, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	o := locate.Options{Files: []string{p}, Getenv: env(nil)}
	_, err := locate.Identities(o)
	checkPermError(t, "owned by uid 65534", err, p)
	var pe *store.PermissionError
	if !errors.As(err, &pe) || pe.Reason != store.ReasonOwner || pe.UID != 65534 {
		t.Fatalf("PermissionError %+v; want ReasonOwner, UID 65534", pe)
	}
	o.AllowInsecurePermissions = true
	if found, err := locate.Identities(o); err != nil || !slices.Equal(recipients(t, found.Identities), []string{rec}) {
		t.Fatalf("with AllowInsecurePermissions: %v", err)
	}
	if err := os.Chown(p, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := locate.Identities(locate.Options{Files: []string{p}, Getenv: env(nil)}); err != nil {
		t.Fatalf("owned by root: %v", err)
	}
}

func checkPermError(t *testing.T, what string, err error, path string) {
	t.Helper()
	if !errors.Is(err, store.ErrInsecurePermissions) {
		t.Fatalf("%s: %v; want ErrInsecurePermissions", what, err)
	}
	var pe *store.PermissionError
	if !errors.As(err, &pe) || pe.Path != path {
		t.Fatalf("%s: no *store.PermissionError naming %s in %v", what, path, err)
	}
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A nil Getenv means os.Getenv in every function: it neither panics nor
// ignores the process environment.
func TestNilGetenv(t *testing.T) {
	for _, k := range []string{"HUSH_STORE", "HUSH_IDENTITY", "HUSH_IDENTITY_FILE", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "HOME"} {
		t.Setenv(k, "")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	if p, err := locate.StorePath("", nil); err != nil || p != filepath.Join(home, ".local", "share", "hush", "store.age") {
		t.Errorf("StorePath from HOME = %q, %v", p, err)
	}
	if p, err := locate.IdentityPath(nil); err != nil || p != filepath.Join(home, ".config", "hush", "identity.txt") {
		t.Errorf("IdentityPath from HOME = %q, %v", p, err)
	}
	if _, err := locate.Identities(locate.Options{}); !errors.Is(err, store.ErrNoIdentity) {
		t.Errorf("Identities with nothing set: %v; want ErrNoIdentity", err)
	}

	t.Setenv("XDG_DATA_HOME", "/xdg/data")
	t.Setenv("XDG_CONFIG_HOME", "/xdg/config")
	if p, err := locate.StorePath("", nil); err != nil || p != "/xdg/data/hush/store.age" {
		t.Errorf("StorePath from XDG_DATA_HOME = %q, %v", p, err)
	}
	if p, err := locate.IdentityPath(nil); err != nil || p != "/xdg/config/hush/identity.txt" {
		t.Errorf("IdentityPath from XDG_CONFIG_HOME = %q, %v", p, err)
	}
	t.Setenv("HUSH_STORE", "/srv/store.age")
	if p, err := locate.StorePath("", nil); err != nil || p != "/srv/store.age" {
		t.Errorf("StorePath from HUSH_STORE = %q, %v", p, err)
	}

	id := newIdentity(t)
	t.Setenv("HUSH_IDENTITY", id.String())
	found, err := locate.Identities(locate.Options{})
	if err != nil || found.From != "HUSH_IDENTITY" {
		t.Fatalf("Identities from HUSH_IDENTITY: %v, %v", found, err)
	}
	if got := recipients(t, found.Identities); !slices.Equal(got, []string{id.Recipient().String()}) {
		t.Errorf("found %q; want %s", got, id.Recipient())
	}
}

func TestStorePath(t *testing.T) {
	tests := []struct {
		name string
		flag string
		env  map[string]string
		want string
	}{
		{"flag wins", "./dev.age", map[string]string{"HUSH_STORE": "/a.age", "XDG_DATA_HOME": "/d", "HOME": "/h"}, "./dev.age"},
		{"HUSH_STORE next", "", map[string]string{"HUSH_STORE": "/a.age", "XDG_DATA_HOME": "/d", "HOME": "/h"}, "/a.age"},
		{"XDG_DATA_HOME next", "", map[string]string{"XDG_DATA_HOME": "/d", "HOME": "/h"}, "/d/hush/store.age"},
		{"HOME last", "", map[string]string{"HOME": "/h"}, "/h/.local/share/hush/store.age"},
		{"relative XDG_DATA_HOME ignored", "", map[string]string{"XDG_DATA_HOME": "d", "HOME": "/h"}, "/h/.local/share/hush/store.age"},
		{"relative HUSH_STORE kept", "", map[string]string{"HUSH_STORE": "s.age", "HOME": ""}, "s.age"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := locate.StorePath(tt.flag, env(tt.env)); err != nil || got != tt.want {
				t.Errorf("StorePath(%q) = %q, %v; want %q", tt.flag, got, err, tt.want)
			}
		})
	}
}

func TestIdentityPath(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"XDG_CONFIG_HOME first", map[string]string{"XDG_CONFIG_HOME": "/c", "HOME": "/h", "HUSH_IDENTITY_FILE": "/f"}, "/c/hush/identity.txt"},
		{"HOME next", map[string]string{"HOME": "/h"}, "/h/.config/hush/identity.txt"},
		{"relative XDG_CONFIG_HOME ignored", map[string]string{"XDG_CONFIG_HOME": "c", "HOME": "/h"}, "/h/.config/hush/identity.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := locate.IdentityPath(env(tt.env)); err != nil || got != tt.want {
				t.Errorf("IdentityPath = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestStateDir(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"XDG_STATE_HOME first", map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/hush"},
		{"HOME next", map[string]string{"HOME": "/h"}, "/h/.local/state/hush"},
		{"relative XDG_STATE_HOME ignored", map[string]string{"XDG_STATE_HOME": "s", "HOME": "/h"}, "/h/.local/state/hush"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := locate.StateDir(env(tt.env)); err != nil || got != tt.want {
				t.Errorf("StateDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if p, err := locate.StateDir(env(map[string]string{"HOME": "rel", "XDG_STATE_HOME": "rel"})); !errors.Is(err, locate.ErrNoHome) || p != "" {
		t.Errorf("StateDir = %q, %v; want ErrNoHome", p, err)
	}
}

// With nothing to go on (HOME unset, as under systemd, cron or env -i, or
// relative, and no XDG variable or HUSH_STORE), locate refuses to guess:
// never a path relative to the working directory.
func TestNoHomeRefused(t *testing.T) {
	for _, home := range []string{"", "home", "./home"} {
		t.Run(fmt.Sprintf("HOME=%q", home), func(t *testing.T) {
			e := env(map[string]string{"HOME": home, "XDG_DATA_HOME": "rel/data", "XDG_CONFIG_HOME": "rel/config"})
			if p, err := locate.StorePath("", e); !errors.Is(err, locate.ErrNoHome) || p != "" {
				t.Errorf("StorePath = %q, %v; want ErrNoHome", p, err)
			}
			if p, err := locate.IdentityPath(e); !errors.Is(err, locate.ErrNoHome) || p != "" {
				t.Errorf("IdentityPath = %q, %v; want ErrNoHome", p, err)
			}
			_, err := locate.Identities(locate.Options{Getenv: e})
			if !errors.Is(err, locate.ErrNoHome) || !errors.Is(err, store.ErrNoIdentity) {
				t.Errorf("Identities: %v; want ErrNoIdentity and ErrNoHome", err)
			}
		})
	}
}

// A Getenv of the caller's own is the only source: the process's HOME and
// XDG variables are not consulted behind its back.
func TestGetenvIsTheOnlySource(t *testing.T) {
	procHome := t.TempDir()
	t.Setenv("HOME", procHome)
	t.Setenv("XDG_DATA_HOME", filepath.Join(procHome, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(procHome, "config"))
	t.Setenv("HUSH_STORE", filepath.Join(procHome, "store.age"))
	id := newIdentity(t)
	t.Setenv("HUSH_IDENTITY", id.String())
	writeFile(t, filepath.Join(procHome, "config", "hush", "identity.txt"), []byte(id.String()+"\n"), 0o600)

	empty := func(string) string { return "" }
	if p, _ := locate.StorePath("", empty); strings.Contains(p, procHome) {
		t.Errorf("StorePath = %q: read the process environment", p)
	}
	if p, _ := locate.IdentityPath(empty); strings.Contains(p, procHome) {
		t.Errorf("IdentityPath = %q: read the process environment", p)
	}
	if found, err := locate.Identities(locate.Options{Getenv: empty}); !errors.Is(err, store.ErrNoIdentity) {
		t.Errorf("Identities = %v, %v; want ErrNoIdentity", found, err)
	}
}

// A passphrase-encrypted identity file found by Identities asks for its
// passphrase only when first used, through the caller's IdentityOptions.
func TestIdentitiesEncryptedFileLazy(t *testing.T) {
	inner := newIdentity(t)
	sr, err := age.NewScryptRecipient("id pass")
	if err != nil {
		t.Fatal(err)
	}
	sr.SetWorkFactor(10)
	p := filepath.Join(t.TempDir(), "identity.txt.age")
	writeFile(t, p, testkit.Encrypt(t, []byte(inner.String()+"\n"), sr), 0o600)

	var calls atomic.Int32
	o := locate.Options{Getenv: env(map[string]string{"HUSH_IDENTITY_FILE": p})}
	o.Passphrase = func(prompt string) ([]byte, error) {
		calls.Add(1)
		if !strings.Contains(prompt, p) {
			t.Errorf("prompt %q does not name %s", prompt, p)
		}
		return []byte("id pass"), nil
	}
	found, err := locate.Identities(o)
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("finding asked for the passphrase %d times; want 0", n)
	}
	for range 2 {
		r, err := age.Decrypt(bytes.NewReader(testkit.Encrypt(t, []byte("hello"), inner.Recipient())), found.Identities...)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(r); err != nil || string(b) != "hello" {
			t.Fatalf("decrypted %q, %v", b, err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("passphrase asked %d times; want 1", n)
	}
}

// A key that does not parse is ErrInvalidIdentity, from a file or from
// HUSH_IDENTITY, and the error names the source but not the key.
func TestIdentitiesInvalidHidesKey(t *testing.T) {
	key := []byte(newIdentity(t).String())
	if i := len(key) - 10; key[i] == 'Q' { // one data character changed: the checksum fails
		key[i] = 'P'
	} else {
		key[i] = 'Q'
	}
	text := "# comment\n" + string(key) + "\n"
	p := filepath.Join(t.TempDir(), "identity.txt")
	writeFile(t, p, []byte(text), 0o600)
	for name, o := range map[string]locate.Options{
		p:               {Files: []string{p}, Getenv: env(nil)},
		"HUSH_IDENTITY": {Getenv: env(map[string]string{"HUSH_IDENTITY": text})},
	} {
		_, err := locate.Identities(o)
		if !errors.Is(err, store.ErrInvalidIdentity) {
			t.Fatalf("%s: %v; want ErrInvalidIdentity", name, err)
		}
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
		body := string(key[len("AGE-SECRET-KEY-1"):])
		for i := 0; i+12 <= len(body); i++ {
			if strings.Contains(strings.ToUpper(err.Error()), body[i:i+12]) {
				t.Fatalf("%s: the error contains key material: %v", name, err)
			}
		}
	}
}
