package format

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// chunks records the sizes of the writes it gets.
type chunks struct {
	bytes.Buffer
	sizes []int
}

func (c *chunks) Write(p []byte) (int, error) {
	c.sizes = append(c.sizes, len(p))
	return c.Buffer.Write(p)
}

// streamDecoded encodes d again through an Encoder, every entry given as
// an entry of d, and checks the writes it made.
func streamDecoded(t *testing.T, d *Document) []byte {
	t.Helper()
	var w chunks
	enc := NewEncoder(&w, d.Version, d.Recipients)
	for i := range d.Entries {
		enc.Entry(d, i)
	}
	n, err := enc.Close(d.Integrity)
	if err != nil || n != int64(w.Len()) {
		t.Fatalf("Close = %d, %v; wrote %d", n, err, w.Len())
	}
	for _, s := range w.sizes {
		if s > EncoderBuffer {
			t.Fatalf("a write of %d bytes, over EncoderBuffer", s)
		}
	}
	return w.Bytes()
}

// The Encoder writes what EncodeWith returns, byte for byte: for records
// (the golden ones, every kind of byte and timestamp), and for entries of
// decoded documents, whether it copies them (documents hush wrote) or
// encodes them again (documents in any other form a reader accepts: the
// accepted vectors, with whitespace, escapes, members in other orders,
// timestamps with offsets or trailing zeros, empty descriptions).
func TestEncoderMatchesEncode(t *testing.T) {
	recs := goldenRecords(t)
	want := EncodeWith(1, []string{"age1x", `we"ird\`}, Integrity{StoreKey: make([]byte, KeySize)}, slices.Clone(recs))
	slices.SortFunc(recs, func(a, b *Record) int { return strings.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	enc := NewEncoder(&buf, 1, []string{"age1x", `we"ird\`})
	for _, r := range recs {
		enc.Record(r)
	}
	if _, err := enc.Close(Integrity{StoreKey: make([]byte, KeySize)}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("records: streamed\n%q\nwant\n%q", buf.Bytes(), want)
	}

	docs := map[string][]byte{"golden": want}
	for i, p := range fixturePlaintexts(t) {
		docs[fmt.Sprint("fixture ", i)] = p
	}
	for _, v := range readVectors(t) {
		if v.expect == "accept" {
			docs["vector "+v.name] = v.doc
		}
	}
	for name, plain := range docs {
		d, err := Decode(plain)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, want := streamDecoded(t, d), encode(d); !bytes.Equal(got, want) {
			t.Errorf("%s: streamed\n%q\nwant\n%q", name, got, want)
		}
	}
}

// Entries in the form hush writes are copied from the plaintext, and each
// way of being in another form is noticed: the copy would otherwise
// differ from what the encoder writes.
func TestEncoderCopiesOnlyCanonical(t *testing.T) {
	const canon = `"A":{"value":"dg==","encoding":"base64","description":"d","created":"2024-01-02T03:04:05.5Z","updated":"2024-01-02T03:04:05Z"}`
	head := `{"version":1,"recipients":[],"entries":{`
	d, err := Decode([]byte(head + canon + `}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := d.raw(&d.Entries[0]); !ok || string(r) != canon {
		t.Fatalf("raw = %q, %v; want the entry as it is", r, ok)
	}
	for _, entry := range []string{
		`"A":{"value":"v","description":"","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"}`,
		`"A":{"value":"v","created":"2024-01-02T03:04:05.50Z","updated":"2024-01-02T03:04:05Z"}`,
		`"A":{"value":"v","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05.000Z"}`,
		`"A":{"value":"v","created":"2024-01-02T03:04:05+01:00","updated":"2024-01-02T03:04:05Z"}`,
		`"A":{"value":"v","created":"","updated":"2024-01-02T03:04:05Z"}`,
		`"A":{"value":"v","updated":"2024-01-02T03:04:05Z"}`,
		`"A":{"value":"v","created":"2024-01-02T03:04:05Z"}`,
		`"A":{"value":"v"}`,
		`"A":{"value":"v","updated":"2024-01-02T03:04:05Z","created":"2024-01-02T03:04:05Z"}`,
		`"A":{"created":"2024-01-02T03:04:05Z","value":"v","updated":"2024-01-02T03:04:05Z"}`,
		`"A":{"value":"v" ,"created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"}`,
		`"A": {"value":"v","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"}`,
		`"A":{"value":"v","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z" }`,
		`"A":{"value":"\u0076","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"}`,
		`"\u0041":{"value":"v","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"}`,
		`"A":{"value":"v","description":"d\/","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z"}`,
		`"A":{"value":"dg==","encoding":"base64","description":"d","created":"2024-01-02T03:04:05Z","updated":"2024-01-02T03:04:05Z","encoding":"x"}`,
	} {
		d, err := Decode([]byte(head + entry + `}}`))
		if err != nil {
			continue // refused documents are never encoded again
		}
		if r, ok := d.raw(&d.Entries[0]); ok {
			t.Errorf("%s: copied as %q", entry, r)
		}
		if got, want := streamDecoded(t, d), encode(d); !bytes.Equal(got, want) {
			t.Errorf("%s: streamed %q, want %q", entry, got, want)
		}
	}
}

// Entries out of order, or twice, stop the encoder with ErrOrder: the
// document would not be the one Encode writes.
func TestEncoderOrder(t *testing.T) {
	for _, names := range [][]string{{"B", "A"}, {"A", "A"}} {
		var buf bytes.Buffer
		enc := NewEncoder(&buf, 1, nil)
		for _, n := range names {
			enc.Record(&Record{Name: n, Value: "v"})
		}
		if _, err := enc.Close(Integrity{}); !errors.Is(err, ErrOrder) {
			t.Errorf("%v: Close = %v; want ErrOrder", names, err)
		}
	}
}

// A write error stops the encoder and is what Close returns.
func TestEncoderWriteError(t *testing.T) {
	boom := errors.New("boom")
	enc := NewEncoder(failWriter{boom}, 1, nil)
	for i := range 2000 {
		enc.Record(&Record{Name: fmt.Sprintf("N%05d", i), Value: strings.Repeat("v", 100)})
	}
	if _, err := enc.Close(Integrity{}); !errors.Is(err, boom) {
		t.Fatalf("Close = %v; want the write error", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }
