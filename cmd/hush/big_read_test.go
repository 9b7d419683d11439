package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/testkit"
)

// bigReadEntries is the size of the store TestBigStoreRead reads: the
// largest of issue 21's benchmarks.
const bigReadEntries = 100_000

// bigValue is the value of entry i of the big store: mostly short tokens,
// and every few entries something the document must escape (quotes,
// backslashes, control characters, non-ASCII), one value that is not
// valid UTF-8 (stored as base64), and an empty one.
func bigValue(i int) []byte {
	switch {
	case i == 77_777: // stored as base64
		return []byte{0xff, 0xfe, 0x00, 'x', 0x80}
	case i == 4242:
		return []byte{}
	case i%7 == 0:
		return fmt.Appendf(nil, "line %d\n\"quoted\" \\ back\ttab é€𝄞 \x01", i)
	}
	return fmt.Appendf(nil, "%032x", uint64(i)*0x9e3779b97f4a7c15)
}

// bigDocument returns the plaintext of the big store as hush writes it:
// entries sorted by name, escapes as the format gives them, the store key
// key.
func bigDocument(t *testing.T, recipient string, key []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"version":1,"recipients":[%q],"entries":{`, recipient)
	for i := range bigReadEntries {
		if i > 0 {
			b.WriteByte(',')
		}
		v := bigValue(i)
		fmt.Fprintf(&b, `"SECRET_%06d":{"value":`, i)
		if i == 77_777 {
			fmt.Fprintf(&b, `"%s","encoding":"base64"`, base64.StdEncoding.EncodeToString(v))
		} else {
			s, err := json.Marshal(string(v))
			if err != nil {
				t.Fatal(err)
			}
			b.Write(s)
		}
		if i%10 == 0 {
			fmt.Fprintf(&b, `,"description":"entry %d"`, i)
		}
		b.WriteString(`,"created":"2026-12-04T17:25:01.5Z","updated":"2026-12-04T17:25:02Z"}`)
	}
	fmt.Fprintf(&b, `},"store_key":"%s"}`, base64.StdEncoding.EncodeToString(key))
	return b.Bytes()
}

// A store of 100,000 entries reads back exactly: every value through
// export, and values of every kind through get, from the first read of
// the store in each process.
func TestBigStoreRead(t *testing.T) {
	if testing.Short() {
		t.Skip("a 100,000-entry store (-short)")
	}
	home := t.TempDir()
	env := []string{"HOME=" + home}
	var errb bytes.Buffer
	if code := run([]string{"-q", "init"}, strings.NewReader(""), &bytes.Buffer{}, &errb, env); code != 0 {
		t.Fatalf("init: %s", errb.Bytes())
	}
	idFile, err := os.ReadFile(filepath.Join(home, ".config", "hush", "identity.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(idFile))
	if err != nil {
		t.Fatal(err)
	}
	id := ids[0].(*age.X25519Identity)
	// The big store keeps the store key of the one init made, so that the
	// integrity check accepts it as that store's next version.
	storePath := filepath.Join(home, ".local", "share", "hush", "store.age")
	empty, err := os.ReadFile(storePath)
	if err != nil {
		t.Fatal(err)
	}
	emptyPlain, err := testkit.Decrypt(empty, id)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := testkit.DecodeJSONDoc(emptyPlain)
	if err != nil || len(doc.StoreKey) != 32 {
		t.Fatalf("the new store's document: %v, a key of %d bytes", err, len(doc.StoreKey))
	}
	plain := bigDocument(t, id.Recipient().String(), doc.StoreKey)
	if err := os.WriteFile(storePath, testkit.Encrypt(t, plain, id.Recipient()), 0o600); err != nil {
		t.Fatal(err)
	}
	hush := func(args ...string) []byte {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, strings.NewReader(""), &out, &errb, env); code != 0 {
			t.Fatalf("hush %s: exit %d: %s", strings.Join(args, " "), code, errb.Bytes())
		}
		return out.Bytes()
	}

	// get: each run is a new app and store.File, so a first read.
	const binary = 77_777
	name := fmt.Sprintf("SECRET_%06d", binary)
	if got := hush("get", "--raw", name); !bytes.Equal(got, bigValue(binary)) {
		t.Fatalf("get %s = %q; want %q", name, got, bigValue(binary))
	}
	picks := []int{0, 1, 7, 4242, 49_999, 50_000, 99_998, bigReadEntries - 1}
	args := []string{"get", "--json"}
	for _, i := range picks {
		args = append(args, fmt.Sprintf("SECRET_%06d", i))
	}
	var got map[string]string
	if err := json.Unmarshal(hush(args...), &got); err != nil || len(got) != len(picks) {
		t.Fatalf("get --json: %d values, %v", len(got), err)
	}
	for _, i := range picks {
		if name := fmt.Sprintf("SECRET_%06d", i); got[name] != string(bigValue(i)) {
			t.Fatalf("get %s = %q; want %q", name, got[name], bigValue(i))
		}
	}
	var errOut bytes.Buffer
	if code := run([]string{"get", "SECRET_100000"}, strings.NewReader(""), &bytes.Buffer{}, &errOut, env); code != 3 {
		t.Fatalf("get of a name past the last: exit %d (%s); want 3", code, errOut.Bytes())
	}

	// export: every value that JSON holds, exactly; the one that is not
	// UTF-8 is left out with a warning.
	var exported map[string]string
	if err := json.Unmarshal(hush("export", "--format", "json"), &exported); err != nil {
		t.Fatal(err)
	}
	if len(exported) != bigReadEntries-1 {
		t.Fatalf("export printed %d entries; want %d", len(exported), bigReadEntries-1)
	}
	for i := range bigReadEntries {
		name := fmt.Sprintf("SECRET_%06d", i)
		got, ok := exported[name]
		if i == binary {
			if ok {
				t.Fatalf("export printed %s, which is not UTF-8", name)
			}
			continue
		}
		if !ok || got != string(bigValue(i)) {
			t.Fatalf("export: %s = %q (present %v); want %q", name, got, ok, bigValue(i))
		}
	}

	// import: the dotenv export (over 1 MiB: a mapped file, parsed in two
	// halves) into a new store holds every exported value exactly.
	envFile := filepath.Join(home, "big.env")
	hush("-q", "export", "--format", "dotenv", "-o", envFile)
	if fi, err := os.Stat(envFile); err != nil || fi.Size() < 2<<20 {
		t.Fatalf("the dotenv export: %v, want over 2 MiB", err)
	}
	second := filepath.Join(home, "second.age")
	hush("-q", "--store", second, "init")
	hush("-q", "--store", second, "import", envFile)
	var reimported map[string]string
	if err := json.Unmarshal(hush("--store", second, "export", "--format", "json"), &reimported); err != nil {
		t.Fatal(err)
	}
	if len(reimported) != len(exported) {
		t.Fatalf("the import of the dotenv export holds %d entries; want %d", len(reimported), len(exported))
	}
	for name, want := range exported {
		if got, ok := reimported[name]; !ok || got != want {
			t.Fatalf("import of the dotenv export: %s = %q (present %v); want %q", name, got, ok, want)
		}
	}
}
