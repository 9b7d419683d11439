package gitstore

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

const canary = "CANARY-s3cr3t-value"

func encrypt(t *testing.T, s *store.Snapshot) []byte {
	t.Helper()
	b, err := store.EncryptSnapshot(s, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func textconv(t *testing.T, data []byte, id age.Identity, show bool) string {
	t.Helper()
	var out bytes.Buffer
	if err := Textconv(&out, data, TextconvOptions{Identities: []age.Identity{id}, ShowValues: show}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestTextconv(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	rs := []string{id.Recipient().String()}
	s := snap(rs, "API", ent(canary, 1), "PIN", ent("1234", 1), FingerprintKeyName, ent("k1", 0))
	d := s.Entries["API"]
	d.Description = "the \"api\" token\n"
	s.Entries["API"] = d

	out := textconv(t, encrypt(t, s), id, false)
	for _, v := range []string{canary, "1234", "k1"} {
		if strings.Contains(out, v) {
			t.Fatalf("rendering holds value %q:\n%s", v, out)
		}
	}
	want := []string{
		textconvHeader,
		"fingerprint-key id:" + keyID([]byte("k1")),
		"recipient " + rs[0],
		"secret API fp:" + Fingerprint([]byte("k1"), "API", []byte(canary)) + ` description:"the \"api\" token\n"`,
		"secret PIN fp:" + Fingerprint([]byte("k1"), "PIN", []byte("1234")),
	}
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}

	// A fresh encryption of the same store renders the same: a rewrite
	// with no change shows no diff.
	if again := textconv(t, encrypt(t, s), id, false); again != out {
		t.Errorf("rendering changed with the file key:\n%s\n%s", out, again)
	}

	// Changing one value changes exactly its line.
	s.Entries["PIN"] = ent("9999", 2)
	changed := textconv(t, encrypt(t, s), id, false)
	if d := lineDiff(out, changed); len(d) != 2 || !strings.HasPrefix(d[0], "-secret PIN ") || !strings.HasPrefix(d[1], "+secret PIN ") {
		t.Errorf("diff after changing PIN: %q", d)
	}

	// Another key gives other fingerprints.
	if Fingerprint([]byte("k2"), "PIN", []byte("9999")) == Fingerprint([]byte("k1"), "PIN", []byte("9999")) {
		t.Error("fingerprint ignores the key")
	}
	if Fingerprint([]byte("k1"), "A", []byte("v")) == Fingerprint([]byte("k1"), "B", []byte("v")) {
		t.Error("fingerprint ignores the name")
	}

	// Values only on request.
	if all := textconv(t, encrypt(t, s), id, true); !strings.Contains(all, `secret API value:"`+canary+`"`) {
		t.Errorf("--show-values output:\n%s", all)
	}
}

func TestTextconvWithoutKey(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	s := snap([]string{id.Recipient().String()}, "A", ent(canary, 1))
	out := textconv(t, encrypt(t, s), id, false)
	if strings.Contains(out, canary) || !strings.Contains(out, "secret A updated:2025-01-02T00:00:00Z") || !strings.Contains(out, "fingerprint-key none") {
		t.Errorf("rendering without a key:\n%s", out)
	}
}

func TestTextconvBinaryValueShown(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	s := snap([]string{id.Recipient().String()}, "B", store.SnapshotEntry{Value: []byte{0, 0xff, '\n'}})
	if out := textconv(t, encrypt(t, s), id, true); !strings.Contains(out, `secret B value:"\x00\xff\n"`) {
		t.Errorf("binary value:\n%s", out)
	}
}

func TestTextconvUnreadable(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	other, _ := age.GenerateX25519Identity()
	data := encrypt(t, snap([]string{id.Recipient().String()}, "A", ent(canary, 1)))
	var out bytes.Buffer
	err := Textconv(&out, data, TextconvOptions{Identities: []age.Identity{other}})
	if !errors.Is(err, store.ErrDecrypt) {
		t.Fatalf("err = %v, want ErrDecrypt", err)
	}
	if !strings.HasPrefix(out.String(), "# hush store: cannot decrypt") || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("placeholder: %q", out.String())
	}
	out.Reset()
	if err := Textconv(&out, nil, TextconvOptions{Identities: []age.Identity{id}}); err != nil || out.Len() != 0 {
		t.Errorf("empty input: %q, %v", out.String(), err)
	}
}

func TestEnsureFingerprintKey(t *testing.T) {
	ctx := context.Background()
	f, _ := storetest.NewFile(t)
	added, err := EnsureFingerprintKey(ctx, f)
	if err != nil || !added {
		t.Fatalf("first: %v, %v", added, err)
	}
	k1, err := f.Get(ctx, FingerprintKeyName)
	if err != nil || len(k1) != 64 {
		t.Fatalf("key %d bytes, %v", len(k1), err)
	}
	added, err = EnsureFingerprintKey(ctx, f)
	if err != nil || added {
		t.Fatalf("second: %v, %v", added, err)
	}
	if k2, _ := f.Get(ctx, FingerprintKeyName); !bytes.Equal(k1, k2) {
		t.Error("key replaced")
	}
}

// lineDiff returns the lines only in a (prefixed -) and only in b (+).
func lineDiff(a, b string) []string {
	in := func(s string, l string) bool {
		for _, x := range strings.Split(s, "\n") {
			if x == l {
				return true
			}
		}
		return false
	}
	var d []string
	for _, l := range strings.Split(a, "\n") {
		if !in(b, l) {
			d = append(d, "-"+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !in(a, l) {
			d = append(d, "+"+l)
		}
	}
	return d
}
