package store

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
)

// cpSecret is a value placed in every malformed document below; no error
// may ever show it.
const cpSecret = "TOPSECRET-VALUE-7f3a"

// cpStamp is a timestamp as hush writes it.
const cpStamp = "2024-01-02T03:04:05Z"

// cpDoc builds a plaintext document around entries (the inside of the
// "entries" object) with a valid version and recipient.
func cpDoc(entries string) string {
	return `{"version":1,"recipients":["age1x"],"entries":{` + entries + `}}`
}

const cpGood = `"GOOD":{"value":"` + cpSecret + `","created":"` + cpStamp + `","updated":"` + cpStamp + `"}`

// cpRefusals are malformed documents and what their refusal must say.
var cpRefusals = []struct{ name, doc, say string }{
	{"unknown top field", `{"version":1,"recipients":[],"entries":{` + cpGood + `},"extra":"` + cpSecret + `"}`, `unknown field extra`},
	{"unknown entry field", cpDoc(cpGood + `,"B":{"value":"x","secret":"` + cpSecret + `"}`), `unknown entry field secret`},
	{"newer version", `{"version":2,"recipients":[],"entries":{` + cpGood + `}}`, "format version 2 is newer than this hush understands (1); upgrade hush"},
	{"much newer version", `{"version":99999,"recipients":[],"entries":{` + cpGood + `}}`, "newer"},
	{"version zero", `{"version":0,"recipients":[],"entries":{` + cpGood + `}}`, "version"},
	{"no version", `{"recipients":[],"entries":{` + cpGood + `}}`, "version"},
	{"version as string", `{"version":"1","recipients":[],"entries":{` + cpGood + `}}`, "version"},
	{"bad base64", cpDoc(`"B":{"value":"` + cpSecret + `!!","encoding":"base64"}`), `bad base64 value for B`},
	{"unpadded base64", cpDoc(`"B":{"value":"YWJj","encoding":"base64"},"C":{"value":"YQ","encoding":"base64"}`), `bad base64 value for C`},
	{"unknown encoding", cpDoc(`"B":{"value":"` + cpSecret + `","encoding":"hex"}`), `unknown value encoding for B`},
	{"empty name", cpDoc(cpGood + `,"":{"value":"` + cpSecret + `"}`), `invalid entry name ""`},
	{"name with space", cpDoc(cpGood + `,"A B":{"value":"` + cpSecret + `"}`), `invalid entry name "A B"`},
	{"name with NUL", cpDoc(cpGood + `,"A\u0000B":{"value":"` + cpSecret + `"}`), `invalid entry name "A\x00B"`},
	{"name with newline", cpDoc(cpGood + `,"A\nB":{"value":"` + cpSecret + `"}`), `invalid entry name "A\nB"`},
	{"name too long", cpDoc(cpGood + `,"` + strings.Repeat("N", 256) + `":{"value":"` + cpSecret + `"}`), "invalid entry name"},
	{"duplicate entry", cpDoc(cpGood + `,` + cpGood), "duplicate"},
	{"duplicate field", cpDoc(`"B":{"value":"a","value":"` + cpSecret + `"}`), `duplicate key value`},
	{"duplicate top key", `{"version":1,"version":1,"recipients":[],"entries":{}}`, `duplicate key version`},
	{"entry without value", cpDoc(cpGood + `,"B":{"description":"d"}`), "has no value"},
	{"null entry", cpDoc(cpGood + `,"B":null`), "expected"},
	{"value not a string", cpDoc(cpGood + `,"B":{"value":12345}`), "expected"},
	// Each of the cases below is accepted (whole, at least) when one check
	// of the fast path for documents as hush writes them is removed.
	{"NUL after the document", cpDoc(cpGood) + "\x00", "trailing data after the document at byte 154"},
	{"NUL before the document", "\x00" + cpDoc(cpGood), "expected '{' at byte 0"},
	{"entry name without its opening quote", cpDoc(`"A":{"value":"x"},XB":{"value":"y"}`), `expected '"' at byte 65`},
	{"base64 marker without its closing quote", cpDoc(`"A":{"value":"YWJj","encoding":"base64X}`), "unterminated string at byte 89"},
	{"bad timestamp after a good one", cpDoc(`"A":{"value":"x","created":"` + cpStamp + `"},"B":{"value":"y","created":"yyyy-mm-ddThh:mm:ssZ"}`), "bad timestamp for B"},
	{"a good timestamp and more", cpDoc(`"A":{"value":"x","created":"` + cpStamp + `"}, "B":{"value":"y","created":"` + cpStamp + `junk"}`), "bad timestamp for B"},
	{"long name with space", cpDoc(`"ABC DEFGH":{"value":"x"}`), `invalid entry name "ABC DEFGH"`},
	{"long name with DEL", cpDoc("\"ABCDEFG\x7f\":{\"value\":\"x\"}"), `invalid entry name "ABCDEFG\x7f"`},
	{"name with no-break space", cpDoc("\"A\u00a0B\":{\"value\":\"x\"}"), `invalid entry name "A\u00a0B"`},
	{"short name with DEL", cpDoc("\"A\x7f\":{\"value\":\"x\"}"), `invalid entry name "A\x7f"`},
	{"raw tab in a value", cpDoc("\"A\":{\"value\":\"x\ty\"}"), "control character in string at byte 62"},
	{"invalid UTF-8 in a recipient", `{"version":1,"recipients":["` + "\x80" + `"],"entries":{}}`, "invalid UTF-8 in string at byte 28"},
	{"duplicate entry apart", cpDoc(`"B":{"value":"2"},"A":{"value":"1"},"B":{"value":"3"}`), "duplicate entry B"},
	{"version over 64 bits", `{"version":18446744073709551617,"recipients":[],"entries":{}}`, "bad version number at byte 18"},
	{"version with a leading zero", `{"version":01,"recipients":[],"entries":{}}`, "bad version number at byte 13"},
	// The timestamp is the one the entry before used, then one byte more
	// inside the string: the string then ends later than the fast path
	// expects, and the document is not JSON.
	{"repeated timestamp and more", cpDoc(`"B":{"value":"x","created":"` + cpStamp + `","updated":"` + cpStamp + `"},"C":{"value":"y","created":"` + cpStamp + `Q,"updated":"` + cpStamp + `"}`), "expected '}' at byte 182"},
	{"bad timestamp", cpDoc(`"B":{"value":"` + cpSecret + `","created":"yesterday"}`), "timestamp"},
	{"timestamp after 9999 in UTC", cpDoc(`"B":{"value":"` + cpSecret + `","created":"9999-12-31T23:30:00-01:00"}`), "timestamp out of range for B"},
	{"timestamp before 0000 in UTC", cpDoc(`"B":{"value":"` + cpSecret + `","updated":"0000-01-01T00:30:00+01:00"}`), "timestamp out of range for B"},
	{"trailing data", cpDoc(cpGood) + `{"version":1}`, "trailing data"},
	{"trailing garbage", cpDoc(cpGood) + "\n" + cpSecret, "trailing data"},
	{"truncated", cpDoc(cpGood)[:40], ""},
	{"raw invalid UTF-8", cpDoc(`"B":{"value":"` + cpSecret + "\xff" + `"}`), "invalid UTF-8"},
	{"raw control character", cpDoc(`"B":{"value":"` + cpSecret + "\x01" + `"}`), "control character"},
	{"bad escape", cpDoc(`"B":{"value":"` + cpSecret + `\q"}`), "escape"},
	{"lone surrogate", cpDoc(`"B":{"value":"` + cpSecret + `\ud800"}`), "surrogate"},
	{"not an object", `["` + cpSecret + `"]`, ""},
	{"empty", ``, "empty"},
	{"just whitespace", "  \n", ""},
	{"JSON null", `null`, ""},
}

// Malformed documents are refused as a whole with a *DocumentError that
// says what is wrong and never quotes a value, both when decoded and when
// a File meets one inside a store that decrypts.
func TestDocumentRefusals(t *testing.T) {
	cases := cpRefusals
	id := cpX25519(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeDocument([]byte(tc.doc))
			var de *DocumentError
			if !errors.As(err, &de) {
				t.Fatalf("decode = %v; want a *DocumentError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.say) {
				t.Errorf("message %q does not say %q", msg, tc.say)
			}
			if strings.Contains(msg, cpSecret) || strings.Contains(msg, cpSecret[:10]) {
				t.Fatalf("message shows a value: %q", msg)
			}
			if !strings.HasPrefix(msg, "store: malformed document: ") {
				t.Errorf("message %q lacks the store prefix", msg)
			}

			// The same document inside a store that decrypts.
			p := cpPath(t)
			cpWriteFile(t, p, cpEncrypt(t, []byte(tc.doc), id.Recipient()), 0o600)
			f := cpOpen(t, p, Options{Identities: []age.Identity{id}})
			v, gerr := f.Get(context.Background(), "GOOD")
			if !errors.Is(gerr, ErrDecrypt) || !errors.As(gerr, new(*DecryptError)) || v != nil {
				t.Fatalf("File get = %q, %v; want ErrDecrypt and no data", v, gerr)
			}
			if strings.Contains(gerr.Error(), cpSecret[:10]) {
				t.Fatalf("File error shows a value: %v", gerr)
			}
			if !strings.Contains(gerr.Error(), "malformed document") {
				t.Errorf("File error %q does not say the document is malformed", gerr)
			}
			before := cpReadFile(t, p)
			if err := f.Set(context.Background(), "NEW", []byte("v")); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("set on a malformed store = %v; want ErrDecrypt", err)
			}
			if !bytes.Equal(before, cpReadFile(t, p)) {
				t.Fatal("a write replaced the malformed store")
			}
		})
	}
}

// cpEncrypt encrypts plain to r with age alone.
func cpEncrypt(t testing.TB, plain []byte, r age.Recipient) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Documents that any JSON tool may produce from a valid one (pretty
// printed, keys reordered, escapes used, entries unsorted, fields
// omitted) are read the same.
func TestDocumentLenient(t *testing.T) {
	canonical := cpDoc(`"A":{"value":"aé\n","description":"d","created":"2024-01-02T03:04:05Z","updated":"2024-01-03T00:00:00.5Z"},"B":{"value":"/w==","encoding":"base64","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"}`)
	variants := map[string]string{
		"pretty":        "{\n  \"version\": 1,\n  \"recipients\": [\n    \"age1x\"\n  ],\n  \"entries\": {\n    \"A\": {\n      \"value\": \"aé\\n\",\n      \"description\": \"d\",\n      \"created\": \"2024-01-02T03:04:05Z\",\n      \"updated\": \"2024-01-03T00:00:00.5Z\"\n    },\n    \"B\": {\"value\": \"/w==\", \"encoding\": \"base64\", \"created\": \"2024-01-02T03:04:05Z\", \"updated\": \"2024-01-02T03:04:05Z\"}\n  }\n}\n",
		"reordered":     `{"entries":{"B":{"updated":"2024-01-02T03:04:05Z","encoding":"base64","value":"/w==","created":"2024-01-02T03:04:05Z"},"A":{"updated":"2024-01-03T00:00:00.500Z","created":"2024-01-02T04:04:05+01:00","description":"d","value":"a\u00e9\u000a"}},"recipients":["age1x"],"version":1}`,
		"escaped names": `{"version":1,"recipients":["age1x"],"entries":{"\u0042":{"value":"\/w==","encoding":"base64","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"},"A":{"value":"a\u00E9\n","description":"\u0064","created":"2024-01-02T03:04:05Z","updated":"2024-01-03T00:00:00.5Z"}}}`,
	}
	want := cpSnapshot(t, canonical)
	for name, doc := range variants {
		if got := cpSnapshot(t, doc); !cpSameSnapshot(got, want) {
			t.Errorf("%s: decoded %+v; want %+v", name, got, want)
		}
	}
	// Omitted optional parts.
	min := cpSnapshot(t, `{"version":1,"recipients":null,"entries":{"A":{"value":""}}}`)
	if e, ok := min.Entries["A"]; !ok || len(e.Value) != 0 || !e.Created.IsZero() {
		t.Errorf("minimal document decoded as %+v", min)
	}
	if s := cpSnapshot(t, `{"version":1}`); len(s.Entries) != 0 || len(s.Recipients) != 0 {
		t.Errorf("a document with no entries decoded as %+v", s)
	}
}

func cpSnapshot(t *testing.T, doc string) *Snapshot {
	t.Helper()
	d, err := decodeDocument([]byte(doc))
	if err != nil {
		t.Fatalf("decode %.40q...: %v", doc, err)
	}
	return d.snapshot(false)
}

// cpSameSnapshot compares snapshots; times compare as instants.
func cpSameSnapshot(a, b *Snapshot) bool {
	if len(a.Recipients) != len(b.Recipients) || len(a.Entries) != len(b.Entries) {
		return false
	}
	for i := range a.Recipients {
		if a.Recipients[i] != b.Recipients[i] {
			return false
		}
	}
	for n, x := range a.Entries {
		y, ok := b.Entries[n]
		if !ok || !bytes.Equal(x.Value, y.Value) || x.Description != y.Description ||
			!x.Created.Equal(y.Created) || !x.Updated.Equal(y.Updated) {
			return false
		}
	}
	return true
}

// A document whose entries are out of order (edited by hand) is sorted
// when decoded: every entry is found and listed in order.
func TestUnsortedDocument(t *testing.T) {
	d, err := decodeDocument([]byte(cpDoc(`"C":{"value":"3"},"A":{"value":"1"},"B":{"value":"2"}`)))
	if err != nil {
		t.Fatal(err)
	}
	for n, v := range map[string]string{"A": "1", "B": "2", "C": "3"} {
		if e, ok := d.get(n); !ok || e.Value != v {
			t.Errorf("get(%q) = %+v, %v; want value %q", n, e, ok, v)
		}
	}
	var names []string
	for _, e := range d.list() {
		names = append(names, e.Name)
	}
	if strings.Join(names, ",") != "A,B,C" {
		t.Errorf("list names %q; want A,B,C", names)
	}
}
