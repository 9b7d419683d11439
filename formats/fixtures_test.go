package formats

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

const fixtureDir = "../fixtures/import"

// toolhivePassword opens fixtures/import/toolhive.enc and
// toolhive-framed.enc (see fixtures/README.md).
const toolhivePassword = "correct horse battery staple"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantEnv is every-case.env decoded by hand, in file order.
var wantEnv = sec(
	"PLAIN", "hello",
	"EMPTY", "",
	"EMPTY_SINGLE", "",
	"EMPTY_DOUBLE", "",
	"EXPORTED", "yes",
	"EXPORTED_TAB", "tab after export",
	"export", "a name that is the word export",
	"INDENTED", "spaced value",
	"TRAILING_TAB", "value",
	"UNQUOTED_HASH", "a#b",
	"INLINE_COMMENT", "value",
	"ONLY_COMMENT", "",
	"EQUALS", "a=b=c",
	"URL", "postgres://user:p@ss@db.example:5432/app?sslmode=require&x=1",
	"UNQUOTED_QUOTES", `it's "fine" here`,
	"UNQUOTED_BACKSLASH", `C:\Users\n`,
	"SINGLE", `literal $HOME \n "double" `+"`tick`"+` #hash \`,
	"SINGLE_PADDED", "  padded  ",
	"SINGLE_COMMENT", "kept # not a comment",
	"SINGLE_MULTI", "line one\nline two\n\n",
	"DOUBLE", "tab\there \"q\" back\\slash $HOME dollar $PATH",
	"DOUBLE_NEWLINE_ESCAPE", "a\nb\r\n",
	"DOUBLE_MULTI", "first\n  second # not a comment\n",
	"DOUBLE_SINGLE_QUOTE", "it's",
	"DOUBLE_ESCAPED_SINGLE", "it's",
	"DOUBLE_BYTES", "\xff\xfe bin \x00 nul \x7f",
	"DOUBLE_COMMENT", "v",
	"UNICODE", "h\u00e9llo w\u00f6rld \u2713",
	"dotted.name-x", "ok",
	"_UNDERSCORE", "ok",
	"CRLF", "crlf value",
	"CRLF_SINGLE", "crlf single",
	"LAST_NO_NEWLINE", "end",
)

// wantJSON is flat.json decoded by hand.
var wantJSON = sec(
	"API_TOKEN", "s3cret",
	"EMPTY", "",
	"MULTILINE", "line one\nline two\n",
	"UNICODE", "h\u00e9llo w\u00f6rld \u2713",
	"QUOTES", "it's \"quoted\" $HOME `tick` \\",
	"HTML", `<a href="x">&amp;</a>`,
	"CONTROL", "tab\there\x00nul",
	"name.with-dots/and:colons", "any store name is allowed in JSON",
)

// wantToolHive is what scripts/toolhive-fixture.js encrypted, under hush
// names.
var wantToolHive = map[string]string{
	"GITHUB_TOKEN":                        "ghp_exampleexampleexample",
	"EMPTY":                               "",
	"UNICODE":                             "h\u00e9llo w\u00f6rld \u2713",
	"MULTILINE":                           "line one\nline two\n",
	"QUOTES":                              "it's \"quoted\" $HOME `tick` \\",
	"__hush_workloads_BEARER_TOKEN_api":   "bearer-value",
	"__hush_registry_OAUTH_REFRESH_TOKEN": "refresh-value",
	"__hush_auth_login":                   "login-value",
}

func TestFixtureDotenv(t *testing.T) {
	got, err := ParseDotenv(bytes.NewReader(readFixture(t, "every-case.env")))
	if err != nil {
		t.Fatal(err)
	}
	if !equalSecrets(got, wantEnv) {
		for i := range max(len(got), len(wantEnv)) {
			if i >= len(got) || i >= len(wantEnv) || !equalSecrets(got[i:i+1], wantEnv[i:i+1]) {
				t.Errorf("entry %d differs: got %q, want %q", i, got[i:min(i+1, len(got))], wantEnv[i:min(i+1, len(wantEnv))])
			}
		}
	}
	// What the exporter writes for them reads back exactly.
	// What the exporter writes for them reads back exactly; it leaves out
	// the value with a NUL byte and bytes that are not UTF-8.
	var b bytes.Buffer
	written := checkDotenvWrite(t, &b, got)
	if len(written) != len(got)-1 {
		t.Errorf("wrote %d of %d secrets; want all but DOUBLE_BYTES", len(written), len(got))
	}
	back, err := ParseDotenv(&b)
	if err != nil || !equalSecrets(back, written) {
		t.Fatalf("export and re-import of the fixture differ: %v", err)
	}
}

func TestFixtureJSON(t *testing.T) {
	got, err := ParseJSON(bytes.NewReader(readFixture(t, "flat.json")))
	if err != nil || !equalSecrets(got, wantJSON) {
		t.Fatalf("ParseJSON(flat.json) = %q, %v; want %q", got, err, wantJSON)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, got); err != nil {
		t.Fatal(err)
	}
	back, err := ParseJSON(&b)
	if err != nil || !equalSecrets(back, got) {
		t.Fatalf("export and re-import differ: %q, %v", back, err)
	}
}

func TestFixtureToolHive(t *testing.T) {
	var got []Secret
	for _, file := range []string{"toolhive.enc", "toolhive-framed.enc"} {
		var err error
		got, err = ParseToolHive(readFixture(t, file), []byte(toolhivePassword))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		m := map[string]string{}
		for _, s := range got {
			m[s.Name] = string(s.Value)
		}
		if d := cmp.Diff(wantToolHive, m); d != "" {
			t.Fatalf("ParseToolHive(%s):\n%s", file, d)
		}
		if _, err := ParseToolHive(readFixture(t, file), []byte(toolhivePassword+" ")); !errors.Is(err, store.ErrDecrypt) {
			t.Fatalf("%s with a wrong password: %v, want ErrDecrypt", file, err)
		}
	}
	// Imported through the raw store, scoped keys land in their scopes.
	f := newStore(t, nil)
	if _, err := Import(ctx, f, got, ImportFail); err != nil {
		t.Fatal(err)
	}
	v, err := mustScoped(t, f, "workloads").Get(ctx, "BEARER_TOKEN_api")
	if err != nil || string(v) != "bearer-value" {
		t.Fatalf("scoped read after import = %q, %v", v, err)
	}
	if v, err := scope.User(f).Get(ctx, "GITHUB_TOKEN"); err != nil || string(v) != "ghp_exampleexampleexample" {
		t.Fatalf("user read after import = %q, %v", v, err)
	}
}

// sealToolHive encrypts plaintext in ToolHive's format, for bad-input cases
// the independent fixture does not cover.
func sealToolHive(t testing.TB, plaintext, password string) []byte {
	t.Helper()
	key := sha256.Sum256([]byte(password))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 12)
	rand.Read(nonce)
	return gcm.Seal(nonce, nonce, []byte(plaintext), nil)
}

// importFile is what `hush import` does: parse, then import.
func importFile(p store.Provider, format string, data []byte) error {
	var s []Secret
	var err error
	switch format {
	case "dotenv":
		s, err = ParseDotenv(bytes.NewReader(data))
	case "json":
		s, err = ParseJSON(bytes.NewReader(data))
	case "toolhive":
		s, err = ParseToolHive(data, []byte(toolhivePassword))
	}
	if err != nil {
		return err
	}
	_, err = Import(ctx, p, s, ImportFail)
	return err
}

// TestBadInputsWriteNothing: every malformed input gives a clear error
// that shows no value, and the store is not written.
func TestBadInputsWriteNothing(t *testing.T) {
	thv := readFixture(t, "toolhive.enc")
	flipped := bytes.Clone(thv)
	flipped[len(flipped)/2] ^= 1
	framed := readFixture(t, "toolhive-framed.enc")
	saltFlipped := bytes.Clone(framed)
	saltFlipped[10] ^= 1
	version2 := bytes.Clone(framed)
	version2[6] = 2
	type bad struct {
		name, format string
		data         []byte
		want         string // substring of the error
		is           error  // and a sentinel, when there is one
	}
	cases := []bad{
		{"json number", "json", []byte(`{"OK":"SECRET","A": 1}`), "is a number", nil},
		{"json boolean", "json", []byte(`{"A": true}`), "is a boolean", nil},
		{"json null", "json", []byte(`{"A": null}`), "is null", nil},
		{"json nested object", "json", []byte("{\n\"A\": {\"B\": \"SECRET\"}}"), "line 2: value of A is an object", nil},
		{"json array value", "json", []byte(`{"A": ["SECRET"]}`), "is an array", nil},
		{"json top-level array", "json", []byte(`["SECRET"]`), "want a JSON object", nil},
		{"json top-level string", "json", []byte(`"SECRET"`), "want a JSON object", nil},
		{"json duplicate", "json", []byte("{\"A\": \"SECRET\",\n\"A\": \"SECRET2\"}"), "line 2: name A given twice", nil},
		{"json trailing comma", "json", []byte(`{"A": "SECRET",}`), "malformed JSON", nil},
		{"json bare word", "json", []byte(`{"A": SECRET}`), "malformed JSON", nil},
		{"json trailing data", "json", []byte(`{"A": "SECRET"} {}`), "after the JSON object", nil},
		{"json truncated", "json", []byte(`{"A": "SECRET`), "unexpected end of input", nil},
		{"json empty", "json", nil, "unexpected end of input", nil},
		{"json invalid UTF-8", "json", []byte("{\n\n\"A\": \"SECRET\xff\"}"), "line 3: input is not valid UTF-8", nil},
		{"json empty name", "json", []byte(`{"": "SECRET"}`), "invalid secret name", nil},
		{"json name with a space", "json", []byte(`{"A B": "SECRET"}`), "invalid secret name", nil},
		{"toolhive wrong password", "toolhive", sealToolHive(t, `{"secrets":{"A":"SECRET"}}`, "other"), "wrong password", store.ErrDecrypt},
		{"toolhive truncated by a byte", "toolhive", thv[:len(thv)-1], "truncated", store.ErrDecrypt},
		{"toolhive truncated to a header", "toolhive", thv[:20], "truncated", store.ErrDecrypt},
		{"toolhive empty file", "toolhive", nil, "truncated", store.ErrDecrypt},
		{"toolhive flipped bit", "toolhive", flipped, "corrupt", store.ErrDecrypt},
		{"framed toolhive body under another key", "toolhive", append(framed[:23:23], sealToolHive(t, `{"secrets":{"A":"SECRET"}}`, toolhivePassword)...), "wrong password", store.ErrDecrypt},
		{"framed toolhive truncated header", "toolhive", framed[:20], "shorter than its header", store.ErrDecrypt},
		{"framed toolhive truncated body", "toolhive", framed[:len(framed)-1], "truncated", store.ErrDecrypt},
		{"framed toolhive header only", "toolhive", framed[:23], "its header, a nonce and a tag", store.ErrDecrypt},
		{"framed toolhive salt changed", "toolhive", saltFlipped, "wrong password", store.ErrDecrypt},
		{"framed toolhive unknown version", "toolhive", version2, "version 2 is not supported", nil},
		{"toolhive not JSON", "toolhive", sealToolHive(t, `SECRET`, toolhivePassword), "not the expected JSON", nil},
		{"toolhive non-string", "toolhive", sealToolHive(t, `{"secrets":{"A":1,"B":"SECRET"}}`, toolhivePassword), "is a number", nil},
		{"toolhive bad scope", "toolhive", sealToolHive(t, `{"secrets":{"__thv_Work_x":"SECRET"}}`, toolhivePassword), "invalid scope", nil},
		{"toolhive no scope", "toolhive", sealToolHive(t, `{"secrets":{"__thv_x":"SECRET"}}`, toolhivePassword), "without a scope", nil},
		{"toolhive hush-reserved name", "toolhive", sealToolHive(t, `{"secrets":{"__hush_a_b":"SECRET"}}`, toolhivePassword), "reserved namespace", nil},
	}
	for _, tc := range malformedDotenv {
		cases = append(cases, bad{"dotenv " + tc.name, "dotenv", []byte(tc.in), tc.reason, nil})
	}
	f := newStore(t, map[string]string{"A": "existing"})
	before := stateOf(t, f.Path())
	for _, tc := range cases {
		err := importFile(f, tc.format, tc.data)
		t.Logf("%s: %v", tc.name, err)
		switch {
		case err == nil:
			t.Errorf("%s: imported", tc.name)
		case !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: error %q, want %q", tc.name, err, tc.want)
		case tc.is != nil && !errors.Is(err, tc.is):
			t.Errorf("%s: error %q does not wrap %v", tc.name, err, tc.is)
		case strings.Contains(err.Error(), "SECRET"):
			t.Errorf("%s: error %q shows a value", tc.name, err)
		}
		if !strings.HasPrefix(err.Error(), "formats: ") {
			t.Errorf("%s: error %q does not say where it comes from", tc.name, err)
		}
	}
	before.unchanged(t, f.Path())
}

// TestImportLeavesSourceAlone: importing from the fixture files leaves
// them byte for byte and time for time as they were.
func TestImportLeavesSourceAlone(t *testing.T) {
	for _, name := range []string{"every-case.env", "flat.json", "toolhive.enc", "toolhive-framed.enc"} {
		path := filepath.Join(fixtureDir, name)
		fi0, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		data0 := readFixture(t, name)
		r, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var s []Secret
		switch filepath.Ext(name) {
		case ".env":
			s, err = ParseDotenv(r)
		case ".json":
			s, err = ParseJSON(r)
		default:
			var b []byte
			b, err = os.ReadFile(path)
			if err == nil {
				s, err = ParseToolHive(b, []byte(toolhivePassword))
			}
		}
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Import(ctx, newStore(t, nil), s, ImportFail); err != nil {
			t.Fatal(err)
		}
		fi1, _ := os.Stat(path)
		if !bytes.Equal(readFixture(t, name), data0) || !fi1.ModTime().Equal(fi0.ModTime()) || fi1.Mode() != fi0.Mode() {
			t.Errorf("%s changed by the import", name)
		}
	}
}
