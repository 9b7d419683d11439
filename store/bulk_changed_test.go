//go:build !race

// (The race detector would report the race this test makes on purpose.)

package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
)

// A value whose bytes change while SetMany runs (another process writing
// an input file that is mapped into memory) is stored as it was when it
// was copied, or refused with nothing stored: never as text that is not
// UTF-8, which the encoder would turn into a value that was never given
// (U+FFFD for the byte 0xff).
func TestSetManyValueChangedMeanwhile(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs two CPUs to change a value while SetMany runs")
	}
	ctx := context.Background()
	buf := []byte("abcd")
	names, values := make([]string, 20_000), make([][]byte, 20_000)
	for i := range names {
		names[i], values[i] = fmt.Sprintf("K%05d", i), buf // all share buf
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			buf[0] = "a\xff"[i&1]
		}
	}()
	defer func() { close(stop); <-done }()
	refused := 0
	for attempt := 0; attempt < 40 && refused < 3; attempt++ {
		f, _, _ := newFileStore(t)
		err := f.Update(ctx, func(tx Tx) error { return TxSetMany(tx, names, values) })
		if errors.Is(err, errValueChanged) {
			refused++
			if got, _ := f.List(ctx); len(got) != 0 {
				t.Fatalf("a refused SetMany stored %d entries", len(got))
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		vals, err := GetMany(ctx, f, names)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if s := string(v); s != "abcd" && s != "\xffbcd" {
				t.Fatalf("%s stored as %q: neither value it held", names[i], v)
			}
		}
	}
	if refused == 0 {
		t.Skip("the value never changed between SetMany's check and its copy in 40 tries")
	}
}
