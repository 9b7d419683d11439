package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/plugin"
)

// members is a set of X25519 identities and their recipient strings.
type members struct {
	ids  []*age.X25519Identity
	recs []string
}

func newMembers(t *testing.T, n int) members {
	var m members
	for range n {
		id := newX25519(t)
		m.ids = append(m.ids, id)
		m.recs = append(m.recs, id.Recipient().String())
	}
	return m
}

// checkEncryptedTo proves with age alone that the file at path decrypts
// with each identity of want and with no identity of not, and that the
// document inside lists exactly want.
func checkEncryptedTo(t *testing.T, path string, want, not []*age.X25519Identity) {
	t.Helper()
	var wantRecs []string
	for _, id := range want {
		wantRecs = append(wantRecs, id.Recipient().String())
	}
	for _, id := range want {
		d := mustAgeDecryptFile(t, path, id)
		if !slices.Equal(d.Recipients, wantRecs) {
			t.Fatalf("document recipients = %q; want %q", d.Recipients, wantRecs)
		}
	}
	for _, id := range not {
		if _, err := ageDecryptFile(t, path, id); err == nil {
			t.Fatalf("a removed recipient (%s) can still decrypt the store", id.Recipient())
		}
	}
}

func TestRecipientsAddRemoveRekey(t *testing.T) {
	ctx := context.Background()
	m := newMembers(t, 3)
	a, b, c := m.ids[0], m.ids[1], m.ids[2]
	caller := Options{Identities: []age.Identity{a}}
	f, p := mustCreate(t, m.recs[:1], caller)
	if err := f.Set(ctx, "K", []byte("v1")); err != nil {
		t.Fatal(err)
	}

	if err := f.AddRecipients(ctx, []string{m.recs[1], m.recs[2], m.recs[1]}); err != nil {
		t.Fatalf("add: %v", err)
	}
	if rs, err := f.Recipients(ctx); err != nil || !slices.Equal(rs, m.recs) {
		t.Fatalf("recipients = %q, %v; want %q (duplicates ignored)", rs, err, m.recs)
	}
	checkEncryptedTo(t, p, m.ids, nil)

	// Every write, by any member, encrypts to the full list.
	if err := mustOpen(t, p, Options{Identities: []age.Identity{c}}).Set(ctx, "K2", []byte("from c")); err != nil {
		t.Fatal(err)
	}
	checkEncryptedTo(t, p, m.ids, nil)
	if err := f.Delete(ctx, "K2"); err != nil {
		t.Fatal(err)
	}
	checkEncryptedTo(t, p, m.ids, nil)

	// Rekey: a fresh file key, same content and recipients.
	before := mustReadFile(t, p)
	if err := f.Rekey(ctx); err != nil {
		t.Fatal(err)
	}
	after := mustReadFile(t, p)
	if bytes.Equal(before, after) || bytes.Equal(ageHeader(before), ageHeader(after)) {
		t.Fatal("rekey did not re-encrypt")
	}
	checkEncryptedTo(t, p, m.ids, nil)

	// Removing b: b can no longer decrypt, a and c still can.
	if err := f.RemoveRecipients(ctx, m.recs[1:2], false); err != nil {
		t.Fatalf("remove b: %v", err)
	}
	checkEncryptedTo(t, p, []*age.X25519Identity{a, c}, []*age.X25519Identity{b})

	// Refusals leave the file byte-identical.
	refuse := func(name string, want error, fn func() error) {
		t.Helper()
		before := mustReadFile(t, p)
		err := fn()
		if !errors.Is(err, want) {
			t.Fatalf("%s: err = %v; want %v", name, err, want)
		}
		if !bytes.Equal(before, mustReadFile(t, p)) {
			t.Fatalf("%s: the store changed", name)
		}
	}
	refuse("remove the caller's only recipient", ErrLastRecipient, func() error {
		return f.RemoveRecipients(ctx, m.recs[:1], false)
	})
	refuse("remove every recipient even forced", ErrLastRecipient, func() error {
		return f.RemoveRecipients(ctx, []string{m.recs[0], m.recs[2]}, true)
	})
	refuse("remove a non-member", ErrInvalidRecipient, func() error {
		return f.RemoveRecipients(ctx, m.recs[1:2], false)
	})
	refuse("add garbage", ErrInvalidRecipient, func() error {
		return f.AddRecipients(ctx, []string{"age1notarecipient"})
	})
	refuse("add an identity by mistake", ErrInvalidRecipient, func() error {
		return f.AddRecipients(ctx, []string{a.String()})
	})
	refuse("mix post-quantum and classic recipients", nil, func() error {
		err := f.AddRecipients(ctx, []string{newHybrid(t).Recipient().String()})
		if err == nil || !strings.Contains(err.Error(), "incompatible recipients") {
			t.Fatalf("adding a hybrid recipient to a classic store: %v", err)
		}
		return nil
	})
	if err := f.AddRecipients(ctx, []string{a.String()}); err != nil && strings.Contains(err.Error(), a.String()[16:]) {
		t.Fatalf("the error quotes the pasted identity: %v", err)
	}

	// A caller holding a and c may drop a: c still opens it.
	two := mustOpen(t, p, Options{Identities: []age.Identity{a, c}})
	if err := two.RemoveRecipients(ctx, m.recs[:1], false); err != nil {
		t.Fatalf("remove a while holding c: %v", err)
	}
	checkEncryptedTo(t, p, []*age.X25519Identity{c}, []*age.X25519Identity{a, b})

	// Forced removal of the caller's last recipient is allowed.
	if err := f.AddRecipients(ctx, m.recs[1:2]); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("a can no longer decrypt, add = %v; want ErrDecrypt", err)
	}
	g := mustOpen(t, p, Options{Identities: []age.Identity{c}})
	if err := g.AddRecipients(ctx, m.recs[1:2]); err != nil {
		t.Fatal(err)
	}
	if err := g.RemoveRecipients(ctx, m.recs[2:3], true); err != nil {
		t.Fatalf("forced removal: %v", err)
	}
	checkEncryptedTo(t, p, []*age.X25519Identity{b}, []*age.X25519Identity{a, c})
	if v, err := mustOpen(t, p, Options{Identities: []age.Identity{b}}).Get(ctx, "K"); err != nil || string(v) != "v1" {
		t.Fatalf("b reads K = %q, %v", v, err)
	}
}

// ageHeader returns the age header of a binary store file.
func ageHeader(b []byte) []byte {
	i := bytes.Index(b, []byte("\n--- "))
	if i < 0 {
		return nil
	}
	return b[:i]
}

// The recipient list lives inside the encrypted document: the file shows
// none of it, and a writer needs only an identity.
func TestRecipientsInsideDocument(t *testing.T) {
	m := newMembers(t, 2)
	_, p := mustCreate(t, m.recs, Options{})
	raw := mustReadFile(t, p)
	for _, r := range m.recs {
		if bytes.Contains(raw, []byte(r)) || bytes.Contains(raw, []byte(r[4:20])) {
			t.Fatalf("the ciphertext shows recipient %s", r)
		}
	}
	d := mustAgeDecryptFile(t, p, m.ids[1])
	if !slices.Equal(d.Recipients, m.recs) || d.Version != FormatVersion {
		t.Fatalf("document = %+v; want version %d and recipients %q", d, FormatVersion, m.recs)
	}
}

// Creating a store for recipients the caller cannot decrypt (a server's
// store prepared on a workstation) is allowed.
func TestCreateForOthers(t *testing.T) {
	ctx := context.Background()
	server := newX25519(t)
	mine := newX25519(t)
	_, p := mustCreate(t, []string{server.Recipient().String()}, Options{Identities: []age.Identity{mine}})
	f := mustOpen(t, p, Options{Identities: []age.Identity{mine}})
	if _, err := f.List(ctx); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("the creator lists a store it cannot decrypt: %v", err)
	}
	if err := f.Set(ctx, "K", []byte("v")); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("set without a matching identity = %v; want ErrDecrypt", err)
	}
	if es, err := mustOpen(t, p, Options{Identities: []age.Identity{server}}).List(ctx); err != nil || len(es) != 0 {
		t.Fatalf("server lists %v, %v; want an empty store", es, err)
	}
	if _, err := Create(ctx, p, []string{mine.Recipient().String()}, Options{}); !errors.Is(err, ErrExists) {
		t.Fatalf("create over an existing store = %v; want ErrExists", err)
	}
	if _, err := Create(ctx, tempStorePath(t), nil, Options{}); err == nil {
		t.Fatal("create with no recipients succeeded")
	}
}

// A passphrase (scrypt) store has exactly that one recipient.
func TestPassphraseStore(t *testing.T) {
	ctx := context.Background()
	opts := Options{Passphrase: "correct horse battery", scryptWorkFactor: 10}
	f, p := mustCreate(t, []string{PassphraseRecipient}, opts)
	if err := f.Set(ctx, "K", []byte("v\x00")); err != nil {
		t.Fatal(err)
	}
	if v, err := mustOpen(t, p, opts).Get(ctx, "K"); err != nil || string(v) != "v\x00" {
		t.Fatalf("get = %q, %v", v, err)
	}
	if h := string(ageHeader(mustReadFile(t, p))); strings.Count(h, "\n-> ") != 1 || !strings.Contains(h, "\n-> scrypt ") {
		t.Fatalf("header is not one scrypt stanza:\n%s", h)
	}
	sid, _ := age.NewScryptIdentity("correct horse battery")
	if d := mustAgeDecryptFile(t, p, sid); !slices.Equal(d.Recipients, []string{PassphraseRecipient}) {
		t.Fatalf("document recipients = %q", d.Recipients)
	}
	for name, o := range map[string]Options{
		"wrong passphrase": {Passphrase: "wrong", scryptWorkFactor: 10},
		"no passphrase":    {Identities: []age.Identity{newX25519(t)}},
	} {
		v, err := mustOpen(t, p, o).Get(ctx, "K")
		if !errors.Is(err, ErrDecrypt) || v != nil {
			t.Fatalf("%s: get = %q, %v; want ErrDecrypt", name, v, err)
		}
		if strings.Contains(err.Error(), "correct horse") {
			t.Fatalf("error shows the passphrase: %v", err)
		}
	}
	before := mustReadFile(t, p)
	if err := f.AddRecipients(ctx, []string{newX25519(t).Recipient().String()}); err == nil {
		t.Fatal("added a second recipient to a passphrase store")
	}
	if !bytes.Equal(before, mustReadFile(t, p)) {
		t.Fatal("a refused recipient change rewrote the store")
	}
	q := tempStorePath(t)
	if _, err := Create(ctx, q, []string{PassphraseRecipient, newX25519(t).Recipient().String()}, opts); err == nil {
		t.Fatal("created a passphrase store with a second recipient")
	}
	if _, err := os.Stat(q); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused create left a file: %v", err)
	}
	if _, err := Create(ctx, q, []string{PassphraseRecipient}, Options{}); err == nil {
		t.Fatal("created a passphrase store without a passphrase")
	}
}

// age plugins, through age's own age-plugin-batchpass: its identity
// (AGE-PLUGIN-BATCHPASS-1..., no data) is also what one encrypts to, as
// `age -j batchpass` does, and it reads the passphrase from AGE_PASSPHRASE.
func TestPluginBatchpass(t *testing.T) {
	ctx := context.Background()
	bin := toolPath(t, "age-plugin-batchpass")
	t.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("AGE_PASSPHRASE", "plugin pass")
	t.Setenv("AGE_PASSPHRASE_WORK_FACTOR", "10")
	t.Setenv("AGE_PASSPHRASE_FD", "")

	idLine := plugin.EncodeIdentity("batchpass", nil)
	ids := mustParseIdentities(t, "batchpass.txt", []byte(idLine+"\n"), IdentityOptions{})
	if _, ok := ids[0].(*plugin.Identity); !ok {
		t.Fatalf("parsed %T; want a plugin identity", ids[0])
	}
	checkRoundTrip(t, idLine, ids)

	f, p := mustCreate(t, []string{idLine}, Options{Identities: ids})
	if err := f.Set(ctx, "K", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if h := string(ageHeader(mustReadFile(t, p))); !strings.Contains(h, "\n-> scrypt ") {
		t.Fatalf("the plugin did not wrap the file key:\n%s", h)
	}
	// The stock age CLI opens it with the same plugin.
	if age, err := exec.LookPath("age"); err == nil {
		out, err := exec.Command(age, "-d", "-j", "batchpass", p).Output()
		if err != nil || !bytes.Contains(out, []byte(`"K"`)) {
			t.Fatalf("age -d -j batchpass: %v\n%s", err, out)
		}
	}
	t.Setenv("AGE_PASSPHRASE", "wrong")
	if v, err := mustOpen(t, p, Options{Identities: ids}).Get(ctx, "K"); !errors.Is(err, ErrDecrypt) || v != nil {
		t.Fatalf("wrong plugin passphrase: get = %q, %v; want ErrDecrypt", v, err)
	}

	// A plugin identity with data may be private: refused as a recipient,
	// without echoing it.
	withData := plugin.EncodeIdentity("batchpass", []byte("secret-ish data"))
	_, err := ParseRecipient(withData, nil)
	if !errors.Is(err, ErrInvalidRecipient) || strings.Contains(err.Error(), withData[20:]) {
		t.Fatalf("plugin identity with data as recipient: %v", err)
	}
	// A plugin recipient string goes to the plugin, which here refuses it:
	// a clear error and no store.
	q := tempStorePath(t)
	_, err = Create(ctx, q, []string{plugin.EncodeRecipient("batchpass", nil)}, Options{})
	if err == nil || !strings.Contains(err.Error(), "batchpass") {
		t.Fatalf("create for a recipient the plugin refuses: %v", err)
	}
	if _, serr := os.Stat(q); !errors.Is(serr, os.ErrNotExist) {
		t.Fatal("a failed create left a store file")
	}
}
