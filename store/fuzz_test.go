package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/hush-secrets/hush/store/internal/format"
)

// The document fuzzer, against encoding/json, is format.FuzzDecode.

// FuzzValidName: the format's rule for entry names (format.ValidName, what
// a document may hold) is ValidateExistingName's (what Get, Lookup and
// Delete accept), so every secret a store holds can be read and deleted;
// and ValidateName (what Set accepts) accepts no more, so a store never
// writes a name it would refuse to read. The two differ only in format
// characters (Cf), which stores written before may hold.
func FuzzValidName(f *testing.F) {
	for _, s := range []string{"", "a", "A.b-c_d/e:f@g", "a b", "a\tb", "nbsp\u00a0x", "line\u2028sep", "nul\x00",
		"del\x7f", "c1\u0085", "bad\xffutf8", "ünïcødé", "😀", "\ufffd", strings.Repeat("a", 255), strings.Repeat("a", 256),
		strings.Repeat("é", 127) + "a", strings.Repeat("é", 128), "12345678\x7f", "1234567 8",
		"bidi\u202eexe.txt", "zero\u200bwidth", "zwj\u200d", "bom\ufeff", "\u2066isolate", "soft\u00adhyphen"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		valid := format.ValidName([]byte(name))
		if want := ValidateExistingName(name) == nil; valid != want {
			t.Fatalf("format.ValidName(%q) = %v; ValidateExistingName says %v", name, valid, want)
		}
		hasCf := strings.IndexFunc(name, func(r rune) bool { return unicode.Is(unicode.Cf, r) }) >= 0
		if want := valid && !hasCf; (ValidateName(name) == nil) != want {
			t.Fatalf("ValidateName(%q) = %v; want it to accept exactly what the format does without format characters (%v)", name, ValidateName(name), want)
		}
	})
}

// fixturePlaintexts decrypts every fixture store with the fixture
// identity and returns the plaintexts.
func fixturePlaintexts(tb testing.TB) [][]byte {
	tb.Helper()
	idText, err := os.ReadFile(filepath.Join(fixtureDir, "identity.txt"))
	if err != nil {
		tb.Fatalf("fixture identity: %v", err)
	}
	ids, err := ParseIdentities("identity.txt", idText, IdentityOptions{})
	if err != nil {
		tb.Fatalf("fixture identity: %v", err)
	}
	var out [][]byte
	for _, s := range fixtureStores {
		b, err := os.ReadFile(filepath.Join(fixtureDir, s.file))
		if err != nil {
			tb.Fatalf("fixture store: %v", err)
		}
		plain, _, err := decryptPlain(b, ids)
		if err != nil {
			tb.Fatalf("fixture %s does not decrypt: %v", s.file, err)
		}
		out = append(out, plain)
	}
	return out
}
