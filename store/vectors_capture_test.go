package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestCaptureVectors(t *testing.T) {
	type vec struct{ name, comment string; doc []byte }
	var vs []vec
	for _, tc := range cpRefusals {
		vs = append(vs, vec{tc.name, tc.name, []byte(tc.doc)})
	}
	docs := streamDocs(t)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, "refused: ") || strings.HasPrefix(k, "fixture ") {
			continue
		}
		vs = append(vs, vec{k, k, docs[k]})
	}
	canonical := cpDoc(`"A":{"value":"aé\n","description":"d","created":"2024-01-02T03:04:05Z","updated":"2024-01-03T00:00:00.5Z"},"B":{"value":"/w==","encoding":"base64","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"}`)
	variants := map[string]string{
		"lenient canonical": canonical,
		"lenient pretty":        "{\n  \"version\": 1,\n  \"recipients\": [\n    \"age1x\"\n  ],\n  \"entries\": {\n    \"A\": {\n      \"value\": \"aé\\n\",\n      \"description\": \"d\",\n      \"created\": \"2024-01-02T03:04:05Z\",\n      \"updated\": \"2024-01-03T00:00:00.5Z\"\n    },\n    \"B\": {\"value\": \"/w==\", \"encoding\": \"base64\", \"created\": \"2024-01-02T03:04:05Z\", \"updated\": \"2024-01-02T03:04:05Z\"}\n  }\n}\n",
		"lenient reordered":     `{"entries":{"B":{"updated":"2024-01-02T03:04:05Z","encoding":"base64","value":"/w==","created":"2024-01-02T03:04:05Z"},"A":{"updated":"2024-01-03T00:00:00.500Z","created":"2024-01-02T04:04:05+01:00","description":"d","value":"a\u00e9\u000a"}},"recipients":["age1x"],"version":1}`,
		"lenient escaped names": `{"version":1,"recipients":["age1x"],"entries":{"\u0042":{"value":"\/w==","encoding":"base64","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"},"A":{"value":"a\u00E9\n","description":"\u0064","created":"2024-01-02T03:04:05Z","updated":"2024-01-03T00:00:00.5Z"}}}`,
		"omitted optional parts": `{"version":1,"recipients":null,"entries":{"A":{"value":""}}}`,
		"version only": `{"version":1}`,
	}
	for k, v := range variants {
		vs = append(vs, vec{k, k, []byte(v)})
	}
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzDecodeDocument/*")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		lines := strings.SplitN(string(b), "\n", 3)
		q := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
		doc, err := strconv.Unquote(q)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, vec{"fuzz seed " + filepath.Base(s), "fuzz seed " + filepath.Base(s), []byte(doc)})
	}
	slug := regexp.MustCompile(`[^a-z0-9]+`)
	seen := map[string]bool{}
	for _, v := range vs {
		name := strings.Trim(slug.ReplaceAllString(strings.ToLower(v.name), "-"), "-")
		if seen[name] {
			t.Fatalf("dup %s", name)
		}
		seen[name] = true
		_, err := decodeDocument(bytes.Clone(v.doc))
		var head string
		if err == nil {
			head = "expect: accept\n"
		} else {
			var de *DocumentError
			if !errors.As(err, &de) {
				t.Fatalf("%s: %v", v.name, err)
			}
			head = "expect: refuse\nreason: " + de.Reason + "\n"
		}
		head += "comment: " + v.comment + "\n\n"
		if err := os.WriteFile(filepath.Join("internal/format/testdata/vectors", name), append([]byte(head), v.doc...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println(len(vs))
}
