package dotenvcheck

import (
	"strings"

	"github.com/hush-secrets/hush/formats"
)

// corpus is the set of awkward values the check exports, one secret per
// value, named so that every parser accepts the name (letters, digits,
// "_"): what is measured is the value's encoding, not the name's.
func corpus() []formats.Secret {
	values := []struct{ name, value string }{
		{"PLAIN", "hello"},
		{"EMPTY", ""},
		{"SPACES", "  padded  "},
		{"LEADING_SPACE", " lead"},
		{"TRAILING_SPACE", "trail "},
		{"ONLY_SPACES", "   "},
		{"TAB", "a\tb"},
		{"TRAILING_TAB", "tab\t"},
		{"SINGLE_QUOTE", "it's"},
		{"ONLY_SINGLE_QUOTE", "'"},
		{"SINGLE_QUOTED", "'quoted'"},
		{"DOUBLE_QUOTE", `say "hi" now`},
		{"ONLY_DOUBLE_QUOTE", `"`},
		{"DOUBLE_QUOTED", `"quoted"`},
		{"BOTH_QUOTES", `it's "quoted"`},
		{"BACKSLASH", `a\b`},
		{"DOUBLE_BACKSLASH", `a\\b`},
		{"LITERAL_ESCAPES", `\n\t\r\x41\u0041`},
		{"TRAILING_BACKSLASH", `a\b\`},
		{"WINDOWS_DIR", `C:\Users\me\`},
		{"ONLY_BACKSLASH", `\`},
		{"BACKSLASH_QUOTE", `\"`},
		{"QUOTE_TRAILING_BACKSLASH", `it's\`},
		{"DOLLAR", "$HOME"},
		{"DOLLAR_BRACE", "${HOME}"},
		{"DOLLAR_DEFAULT", "${NOPE:-fallback}"},
		{"DOLLAR_PAREN", "$(echo pwned)"},
		{"DOLLAR_DOLLAR", "price: $$5 and $"},
		{"BACKTICKS", "`echo pwned`"},
		{"QUOTE_DOLLAR", "it's $HOME"},
		{"QUOTE_BACKTICKS", "it's `echo pwned`"},
		{"HASH", "#not a comment"},
		{"SPACE_HASH", "a #b"},
		{"QUOTE_HASH", "a'#b"},
		{"EQUALS", "a=b=c"},
		{"URL", "postgres://user:p%40ss@db:5432/app?sslmode=require&x=1"},
		{"JSON", `{"a": "b", "c": [1, 2]}`},
		{"BASE64", "SGVsbG8rLz0/Pw+/=="},
		{"EXPORT_LIKE", "export X=1"},
		{"UNICODE", "h\u00e9llo w\u00f6rld \u2713 \U0001F511"},
		{"NBSP_ENDS", "\u00a0nbsp\u00a0"},
		{"CONTROL", "esc\x1b[0m del\x7f bell\a"},
		{"VTAB_FF", "a\vb\fc"},
		{"MULTILINE", "line one\nline two\n\nline four"},
		{"LEADING_NEWLINE", "\nafter"},
		{"TRAILING_NEWLINE", "before\n"},
		{"CR", "a\rb"},
		{"CRLF", "line one\r\nline two\r\n"},
		{"QUOTE_CRLF", "it's\r\nhere"},
		{"QUOTE_NEWLINE", "it's\nhere"},
		{"PEM", pem},
		{"BIG_64K", big()},
		{"NUL", "a\x00b"},
		{"INVALID_UTF8", "ok\xff\xfe"},
	}
	out := make([]formats.Secret, len(values))
	for i, v := range values {
		out[i] = formats.Secret{Name: "V_" + v.name, Value: []byte(v.value)}
	}
	return out
}

const pem = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj
MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu
NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ
-----END PRIVATE KEY-----
`

// big is a 64 KiB value: 1,024 lines of 63 base64 characters and a
// newline, like a large certificate bundle.
func big() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var b strings.Builder
	x := uint32(1)
	for range 1024 {
		for range 63 {
			x = x*1664525 + 1013904223
			b.WriteByte(alphabet[x>>26])
		}
		b.WriteByte('\n')
	}
	return b.String()
}
