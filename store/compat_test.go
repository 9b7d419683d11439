package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// Compatibility: fixtures/store-v1 holds stores written by format v1 and
// the identity that opens them. The current code must read every entry,
// value and timestamp exactly, forever, and keep writing them. The
// fixtures were made once by TestGenerateFixturesV1 with -update-fixtures;
// never regenerate them to make a test pass.

var updateFixtures = flag.Bool("update-fixtures", false, "regenerate fixtures/store-v1 (never in normal runs)")

const fixtureDir = "../fixtures/store-v1"

type fixtureEntry struct {
	name, description string
	value             []byte
	created, updated  time.Time
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// fixtureEntries is what every fixtures/store-v1 store holds.
func fixtureEntries() []fixtureEntry {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	t0 := mustTime("2024-01-02T03:04:05Z")
	return []fixtureEntry{
		{"ALL_BYTES", "", all, t0, t0},
		{"API_TOKEN", "deploy token for ci", []byte("tok-0123456789abcdef"), t0, mustTime("2024-02-03T04:05:06.123456789Z")},
		{"EMPTY", "an empty value", []byte{}, mustTime("2024-03-04T05:06:07Z"), mustTime("2024-03-04T05:06:08Z")},
		{"INVALID_UTF8", "", []byte{0xff, 0xfe, 0x00, 0x80, 'x'}, t0, t0},
		{"MULTILINE", "trailing newlines are kept", []byte("line one\nline two\n\n"), t0, mustTime("2025-12-31T23:59:59.999Z")},
		{"NUL_INSIDE", "", []byte("a\x00b"), t0, t0},
		{"UNICODE_ñ_✓", "ünïcode déscription ✓", []byte("héllo wörld ✓ 🔑"), t0, mustTime("2024-06-07T08:09:10.5Z")},
		{"__hush_app_REFRESH", "", []byte("scoped-refresh-token"), mustTime("2024-01-02T03:04:06Z"), mustTime("2024-01-02T03:04:06Z")},
	}
}

// fixtureStores are the stores in fixtures/store-v1: file name, whether
// armored, and which identity of identity.txt (0: X25519, 1: hybrid) it is
// encrypted to.
var fixtureStores = []struct {
	file    string
	armored bool
	id      int
}{
	{"store.age", false, 0},
	{"store-armored.age", true, 0},
	{"store-pq.age", false, 1},
}

// TestGenerateFixturesV1 writes fixtures/store-v1. It runs only with
// -update-fixtures, which is for a new fixture set, not for fixing a test.
func TestGenerateFixturesV1(t *testing.T) {
	if !*updateFixtures {
		t.Skip("fixtures are generated once; run with -update-fixtures to write new ones")
	}
	ctx := context.Background()
	x, h := newX25519(t), newHybrid(t)
	idText := "# hush test fixture identities, committed ON PURPOSE: they open only the\n" +
		"# stores in fixtures/store-v1, whose secrets are fake. Never use them.\n" +
		"# public key: " + x.Recipient().String() + "\n" + x.String() + "\n" +
		"# public key (post-quantum): " + h.Recipient().String() + "\n" + h.String() + "\n"
	if err := os.MkdirAll(fixtureDir, 0o755); err != nil {
		t.Fatal(err)
	}
	recs := []string{x.Recipient().String(), h.Recipient().String()}
	for _, s := range fixtureStores {
		var now time.Time
		opts := Options{Identities: []age.Identity{x, h}, Armor: s.armored, Now: func() time.Time { return now }}
		p := filepath.Join(t.TempDir(), s.file)
		f, err := Create(ctx, p, recs[s.id:s.id+1], opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range fixtureEntries() {
			now = e.created
			if err := f.Set(ctx, e.name, e.value); err != nil {
				t.Fatal(err)
			}
			if e.description != "" || !e.updated.Equal(e.created) {
				now = e.updated
				err := f.Update(ctx, func(tx Tx) error { return tx.SetDescription(e.name, e.description) })
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := os.WriteFile(filepath.Join(fixtureDir, s.file), mustReadFile(t, p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(fixtureDir, "identity.txt"), []byte(idText), 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyFixture copies a fixture store and the identity into a temporary
// directory with mode 0600 (git checks files out 0644, which hush rightly
// refuses), so the tests never touch the committed files.
func copyFixture(t *testing.T, file string) (store, identity string) {
	t.Helper()
	dir := t.TempDir()
	store, identity = filepath.Join(dir, file), filepath.Join(dir, "identity.txt")
	for src, dst := range map[string]string{filepath.Join(fixtureDir, file): store, filepath.Join(fixtureDir, "identity.txt"): identity} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("fixture missing (it must be committed, not generated): %v", err)
		}
		mustWriteFile(t, dst, b, 0o600)
	}
	return store, identity
}

func TestCompatV1(t *testing.T) {
	for _, s := range fixtureStores {
		t.Run(s.file, func(t *testing.T) {
			ctx := context.Background()
			p, idPath := copyFixture(t, s.file)
			ids, err := ParseIdentities(idPath, mustReadFile(t, idPath), IdentityOptions{})
			if err != nil || len(ids) != 2 {
				t.Fatalf("fixture identities: %v", err)
			}
			opts := Options{Identities: ids}
			rec, _ := RecipientOf(ids[s.id])
			checkFixture(t, mustOpen(t, p, opts), rec, s.armored, nil)

			// Stock age reads it as version 1 of the JSON document.
			plain, err := ageDecryptFile(t, p, ids...)
			if err != nil {
				t.Fatal(err)
			}
			if d := decodeJSONDoc(t, plain); d.Version != 1 {
				t.Fatalf("fixture document version %d; want 1", d.Version)
			}

			// The current code writes to it without disturbing anything.
			if err := mustOpen(t, p, opts).Set(ctx, "ADDED_NOW", []byte("new")); err != nil {
				t.Fatal(err)
			}
			checkFixture(t, mustOpen(t, p, opts), rec, s.armored, []string{"ADDED_NOW"})
		})
	}
}

// checkFixture checks every entry of a fixture store exactly; extra
// names are allowed only if listed.
func checkFixture(t *testing.T, f *File, recipient string, armored bool, extra []string) {
	t.Helper()
	ctx := context.Background()
	want := fixtureEntries()
	es, err := f.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if !slices.Contains(extra, e.Name) {
			names = append(names, e.Name)
		}
	}
	var wantNames []string
	for _, w := range want {
		wantNames = append(wantNames, w.name)
	}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("names = %q; want %q", names, wantNames)
	}
	for _, w := range want {
		i := slices.IndexFunc(es, func(e Entry) bool { return e.Name == w.name })
		e := es[i]
		if e.Description != w.description || !e.Created.Equal(w.created) || !e.Updated.Equal(w.updated) {
			t.Errorf("%s: metadata %q %v %v; want %q %v %v", w.name, e.Description, e.Created, e.Updated, w.description, w.created, w.updated)
		}
		if v, err := f.Get(ctx, w.name); err != nil || !bytes.Equal(v, w.value) {
			t.Errorf("%s: value %q, %v; want %q", w.name, v, err, w.value)
		}
	}
	if rs, err := f.Recipients(ctx); err != nil || !slices.Equal(rs, []string{recipient}) {
		t.Errorf("recipients = %q, %v; want [%s]", rs, err, recipient)
	}
	if snap, err := f.Snapshot(ctx); err != nil || snap.Armored != armored {
		t.Errorf("armored = %v, %v; want %v", snap != nil && snap.Armored, err, armored)
	}
}

// The store is a plain age file: the stock age CLI decrypts it to the
// versioned JSON document, binary or armored, after any write; and a file
// the age CLI encrypted by hand opens in hush. No lock-in either way.
func TestAgeCLIInterop(t *testing.T) {
	ageBin := toolPath(t, "age")
	ctx := context.Background()
	id := newX25519(t)
	idPath := filepath.Join(t.TempDir(), "id.txt")
	mustWriteFile(t, idPath, []byte(id.String()+"\n"), 0o600)
	bin := []byte{0, 1, 0xff, '\n'}
	for _, armored := range []bool{false, true} {
		opts := Options{Identities: []age.Identity{id}, Armor: armored}
		f, p := mustCreate(t, []string{id.Recipient().String()}, opts)
		steps := []struct {
			name string
			do   func() error
		}{
			{"create", func() error { return nil }},
			{"set", func() error { return f.Set(ctx, "TEXT", []byte("hello\n")) }},
			{"set binary", func() error { return f.Set(ctx, "BIN", bin) }},
			{"describe", func() error {
				return f.Update(ctx, func(tx Tx) error { return tx.SetDescription("TEXT", "greeting") })
			}},
			{"add recipient", func() error { return f.AddRecipients(ctx, []string{newX25519(t).Recipient().String()}) }},
			{"rekey", func() error { return f.Rekey(ctx) }},
			{"delete", func() error { return f.Delete(ctx, "BIN") }},
		}
		for _, st := range steps {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			raw := mustReadFile(t, p)
			if got := bytes.HasPrefix(raw, []byte("-----BEGIN AGE ENCRYPTED FILE-----\n")); got != armored {
				t.Fatalf("armored=%v store after %s: armored is now %v", armored, st.name, got)
			}
			if !armored && !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n")) {
				t.Fatalf("after %s the store is not a binary age file", st.name)
			}
			cmd := exec.Command(ageBin, "-d", "-i", idPath, p)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("after %s: age -d -i id.txt store.age: %v\n%s", st.name, err, stderr.Bytes())
			}
			d := decodeJSONDoc(t, out)
			if d.Version != FormatVersion || d.Recipients[0] != id.Recipient().String() {
				t.Fatalf("after %s: document version %d, recipients %q", st.name, d.Version, d.Recipients)
			}
			if e, ok := d.Entries["BIN"]; ok {
				v, err := base64.StdEncoding.DecodeString(e.Value)
				if e.Encoding != "base64" || err != nil || !bytes.Equal(v, bin) {
					t.Fatalf("after %s: binary value in the JSON: %+v", st.name, e)
				}
			}
			if e, ok := d.Entries["TEXT"]; ok && (e.Value != "hello\n" || e.Encoding != "") {
				t.Fatalf("after %s: text value in the JSON: %+v", st.name, e)
			}
		}
	}

	// Hand-made with the CLI: a document encrypted by `age -e -a -r`.
	doc := `{"version":1,"recipients":["` + id.Recipient().String() + `"],"entries":{"BY_HAND":{"value":"made with age"}}}`
	p := tempStorePath(t)
	cmd := exec.Command(ageBin, "-e", "-a", "-r", id.Recipient().String(), "-o", p)
	cmd.Stdin = strings.NewReader(doc)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("age -e: %v\n%s", err, out)
	}
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	f := mustOpen(t, p, Options{Identities: []age.Identity{id}})
	if v, err := f.Get(ctx, "BY_HAND"); err != nil || string(v) != "made with age" {
		t.Fatalf("hush reading an age-made store: %q, %v", v, err)
	}
	if err := f.Set(ctx, "MORE", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(mustReadFile(t, p), []byte("-----BEGIN AGE ENCRYPTED FILE-----")) {
		t.Fatal("an armored store written by age lost its armor on a hush write")
	}
}
