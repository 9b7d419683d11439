package formats

import (
	"bytes"
	"errors"
	"testing"

	"github.com/hush-secrets/hush/store"
)

func TestReference(t *testing.T) {
	for v, want := range map[string]string{
		"hush://DB":      "DB",
		"hush://a/b.c-d": "a/b.c-d",
		"hush://":        "",
		" hush://DB":     "",
		"x hush://DB":    "",
		"HUSH://DB":      "",
		"plain":          "",
	} {
		name, ok := Reference(v)
		if name != want && ok || ok != (want != "") {
			t.Errorf("Reference(%q) = %q, %v; want %q", v, name, ok, want)
		}
	}
}

func TestRender(t *testing.T) {
	vals := map[string]string{"A": "alpha", "B": "multi\nline {{ hush://A }} $x \\", "E": ""}
	lookup := func(name string) ([]byte, error) {
		v, ok := vals[name]
		if !ok {
			return nil, &store.KeyError{Op: "get", Name: name, Err: store.ErrNotFound}
		}
		return []byte(v), nil
	}
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"no placeholders", "no placeholders"},
		{"{{ hush://A }}", "alpha"},
		{"{{hush://A}}", "alpha"},
		{"x={{ \thush://A\t }};", "x=alpha;"},
		{"{{ hush://A }}{{ hush://A }}", "alphaalpha"},
		{"{{ .Values.x }} {{ hush://A }}", "{{ .Values.x }} alpha"},
		{"{{{ hush://A }}}", "{alpha}"},
		{"{{ hush://B }}", vals["B"]}, // values are not rendered again
		{"[{{ hush://E }}]", "[]"},
		{"{ hush://A }", "{ hush://A }"},
		{"hush://A", "hush://A"},
		{"line1\n{{ hush://A }}\n", "line1\nalpha\n"},
	} {
		got, err := Render([]byte(c.in), lookup)
		if err != nil || string(got) != c.want {
			t.Errorf("Render(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in       string
		line     int
		notFound bool
	}{
		{"a\nb\n{{ hush://NOPE }}", 3, true},
		{"{{ hush://A }}\n{{ hush://A ", 2, false},
		{"{{ hush:// }}", 1, false},
		{"{{ hush://A\n}}", 1, false},
		{"{{ hush://A } }", 1, false},
		{"{{ hush://A B }}", 1, false},
	} {
		got, err := Render([]byte(c.in), lookup)
		var te *TemplateError
		if got != nil || !errors.As(err, &te) || te.Line != c.line || errors.Is(err, store.ErrNotFound) != c.notFound {
			t.Errorf("Render(%q) = %q, %v; want a *TemplateError at line %d (not found: %v)", c.in, got, err, c.line, c.notFound)
		}
	}
}

// FuzzRender: any template either renders or fails with a *TemplateError
// on one of its lines, never panics; a template with no "{{" renders as
// itself; and every placeholder is replaced: the output, rendered again,
// asks for no secret (the values here hold no braces).
func FuzzRender(f *testing.F) {
	for _, s := range []string{"", "a {{ hush://A }} b", "{{hush://A}}{{ .x }}", "{{{ hush://A }}}", "{{ hush://A", "x\n{{ hush:// }}", "{{ \thush://a/b }}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, tmpl []byte) {
		lookup := func(name string) ([]byte, error) { return []byte("<v>"), nil }
		out, err := Render(tmpl, lookup)
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) || te.Line < 1 || te.Line > bytes.Count(tmpl, []byte("\n"))+1 || out != nil {
				t.Fatalf("Render(%q) = %q, %v", tmpl, out, err)
			}
			return
		}
		if !bytes.Contains(tmpl, []byte("{{")) && !bytes.Equal(out, tmpl) {
			t.Fatalf("Render(%q) = %q, want it unchanged", tmpl, out)
		}
		_, err = Render(out, func(name string) ([]byte, error) { return nil, errors.New("rendered twice") })
		if err != nil && !bytes.Contains(tmpl, []byte("<v>")) {
			t.Fatalf("Render(%q) = %q, which still holds a placeholder: %v", tmpl, out, err)
		}
	})
}
