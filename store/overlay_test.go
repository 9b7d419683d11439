package store

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/store/internal/format"
)

// A write encodes a clone (the document read, plus changes) by merging
// the changes into the entries read and copying those unchanged from the
// plaintext. Whatever the changes, the result must be byte for byte what
// the encoder of every entry (format.EncodeWith) writes, and get, len,
// list and names must agree with a plain map of the same entries. Random
// batches of sets, re-sets, deletes and re-adds, on bases that were
// decoded (in the form hush writes, and in another) and built in memory,
// and on clones of clones, as a long-lived File makes.
func TestCloneEncodesAsEncoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 600000000, time.UTC)
	name := func() string { return fmt.Sprintf("K%03d", rng.IntN(300)) }
	for round := range 40 {
		// The model: name -> record.
		model := map[string]*docEntry{}
		for range rng.IntN(200) {
			n := name()
			v := []byte(strconv.Itoa(rng.Int()))
			if rng.IntN(5) == 0 {
				v = append(v, 0xff) // not UTF-8: stored as base64
			}
			e := newEntry(n, v)
			e.Created, e.Updated = t0, t0.Add(time.Duration(rng.IntN(3))*time.Millisecond)
			if rng.IntN(4) == 0 {
				e.Description = "d " + n
			}
			model[n] = e
		}
		base := newDocument([]string{"age1x"})
		for n, e := range model {
			base.put(n, e)
		}
		switch round % 3 {
		case 0: // decoded, as hush writes
			base = mustDecode(t, mustMarshal(t, base))
		case 1: // decoded, in another form: every entry re-encoded
			plain := bytes.ReplaceAll(mustMarshal(t, base), []byte(`:{"value":`), []byte(`: {"value":`))
			base = mustDecode(t, plain)
		}
		d := base
		for batch := range 3 {
			d = d.clone()
			for range rng.IntN(50) {
				n := name()
				switch rng.IntN(3) {
				case 0:
					d.put(n, nil)
					delete(model, n)
				default:
					e := newEntry(n, []byte(fmt.Sprint("v", rng.IntN(5))))
					e.Created, e.Updated = t0, t0
					d.put(n, e)
					model[n] = e
				}
			}
			want := format.EncodeWith(format.Version, []string{"age1x"}, format.Integrity{StoreKey: d.key}, records(model))
			if got := mustMarshal(t, d); !bytes.Equal(got, want) {
				t.Fatalf("round %d batch %d: encoded\n%s\nwant\n%s", round, batch, got, want)
			}
			if d.len() != len(model) {
				t.Fatalf("round %d batch %d: len %d, want %d", round, batch, d.len(), len(model))
			}
			names := slices.Sorted(maps.Keys(model))
			if got := d.names(); !slices.Equal(got, names) {
				t.Fatalf("round %d batch %d: names %v, want %v", round, batch, got, names)
			}
			es := d.list()
			for i, e := range es {
				m := model[e.Name]
				if e.Name != names[i] || e.Description != m.Description || !e.Created.Equal(m.Created) || !e.Updated.Equal(m.Updated) {
					t.Fatalf("round %d batch %d: list[%d] = %+v, want %+v", round, batch, i, e, m)
				}
			}
			for range 20 {
				n := name()
				e, ok := d.get(n)
				m, mok := model[n]
				if ok != mok || ok && (e.Value != m.Value || e.Description != m.Description) {
					t.Fatalf("round %d batch %d: get %s = %+v, %v; want %+v", round, batch, n, e, ok, m)
				}
				if v, vok := d.value(n); vok != mok || ok && !bytes.Equal(v, m.bytes()) {
					t.Fatalf("round %d batch %d: value %s = %q, %v; want %q", round, batch, n, v, vok, m.bytes())
				}
			}
			if all := d.all(); len(all) != len(model) {
				t.Fatalf("round %d batch %d: all has %d entries, want %d", round, batch, len(all), len(model))
			}
		}
		if base.len() != len(base.all()) || (base.decoded != nil && base.len() != len(base.decoded.Entries)) {
			t.Fatalf("round %d: the clones changed their base", round)
		}
	}
}

func records(m map[string]*docEntry) []*format.Record {
	var rs []*format.Record
	for _, e := range m {
		rs = append(rs, (*format.Record)(e))
	}
	return rs
}

func mustMarshal(t *testing.T, d *document) []byte {
	t.Helper()
	b, err := d.marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustDecode(t *testing.T, b []byte) *document {
	t.Helper()
	d, err := decodeDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// appendQuoted is strconv.Quote.
func TestAppendQuoted(t *testing.T) {
	for _, s := range []string{"", "A", "SERVICE_00001_API_TOKEN", "a b", `q"`, `b\`, "tab\t", "é", "\x7f", "~", " ", "\xff", "😀"} {
		if got, want := string(appendQuoted(nil, s)), strconv.Quote(s); got != want {
			t.Errorf("appendQuoted(%q) = %s, want %s", s, got, want)
		}
	}
}

// A plaintext over MaxStoreSize is refused with its size, and what comes
// past the limit never reaches age.
func TestCappedRefusesOverLimit(t *testing.T) {
	var got bytes.Buffer
	c := &capped{w: &got, n: MaxStoreSize - 4}
	if _, err := c.Write([]byte("1234")); err != nil || c.check() != nil {
		t.Fatalf("at the limit: %v, %v", err, c.check())
	}
	if n, err := c.Write([]byte("5678")); n != 4 || err != nil {
		t.Fatalf("past the limit: %d, %v", n, err)
	}
	err := c.check()
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), strconv.Itoa(MaxStoreSize+4)) {
		t.Fatalf("check = %v; want ErrLimit with the size", err)
	}
	if got.String() != "1234" {
		t.Fatalf("passed on %q", got.String())
	}
}

// A clone finds its changes without a map while they come in order (an
// import of a sorted file), by binary search for a name put again, and
// with one once a name comes out of order: every path must agree with a
// plain map of the same changes.
func TestCloneChangesInAndOutOfOrder(t *testing.T) {
	base := newDocument([]string{"age1x"})
	base.put("B", newEntry("B", []byte("base")))
	d := base.clone()
	model := map[string]*docEntry{"B": base.all()["B"]}
	set := func(n, v string) {
		e := newEntry(n, []byte(v))
		if v == "" {
			e = nil
			delete(model, n)
		} else {
			model[n] = e
		}
		d.put(n, e)
	}
	check := func(step string) {
		t.Helper()
		for _, n := range []string{"A", "B", "C", "D", "E", "F", "G"} {
			e, ok := d.get(n)
			m, mok := model[n]
			if ok != mok || ok && e.Value != m.Value {
				t.Fatalf("%s: get %s = %v, %v; want %v", step, n, e, ok, m)
			}
		}
		if got, want := d.names(), slices.Sorted(maps.Keys(model)); !slices.Equal(got, want) {
			t.Fatalf("%s: names %v, want %v", step, got, want)
		}
	}
	set("C", "1")
	set("E", "2")
	set("F", "3")
	check("in order")
	set("E", "4") // put again while in order: found by binary search
	set("C", "")  // deleted
	check("put again in order")
	if d.index != nil {
		t.Fatal("a clone with its changes in order built an index")
	}
	set("D", "5") // out of order: from now on an index
	set("A", "6")
	set("E", "7")
	check("out of order")
	c := d.clone() // a clone of a clone starts in order again
	d = c
	set("G", "8")
	set("B", "")
	check("clone of a clone")
}
