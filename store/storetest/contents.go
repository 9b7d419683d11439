package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hush-secrets/hush/store"
)

// Content is what a provider holds under one name: the value and the
// entry's metadata.
type Content struct {
	Value            string
	Description      string
	Created, Updated time.Time
}

// Contents returns everything p holds, by name, read through List and
// Get: values, descriptions and times, reserved keys included. It fails t
// on any error.
func Contents(t testing.TB, p store.Provider) map[string]Content {
	t.Helper()
	ctx := context.Background()
	es, err := p.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := make(map[string]Content, len(es))
	for _, e := range es {
		v, err := p.Get(ctx, e.Name)
		if err != nil {
			t.Fatal(err)
		}
		c[e.Name] = Content{string(v), e.Description, e.Created, e.Updated}
	}
	return c
}

// Dump returns every name p holds with its value, as [Contents] reads
// them. It fails t on any error.
func Dump(t testing.TB, p store.Provider) map[string]string {
	t.Helper()
	m := map[string]string{}
	for name, c := range Contents(t, p) {
		m[name] = c.Value
	}
	return m
}
