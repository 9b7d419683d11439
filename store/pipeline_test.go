package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// pipeDoc is a document of n entries put in name order into a clone of
// an empty one, as an import into an empty store builds it.
func pipeDoc(t testing.TB, n int) (*document, []age.Recipient, *age.X25519Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	d := newDocument([]string{id.Recipient().String()}).clone()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		e := newEntry(fmt.Sprintf("SECRET_%06d", i), fmt.Appendf(nil, "%032x", i*7919))
		e.Created, e.Updated = now, now
		d.put(e.Name, e)
	}
	return d, []age.Recipient{id.Recipient()}, id
}

// goid is the number of the calling goroutine.
func goid() string {
	var b [64]byte
	s := string(b[:runtime.Stack(b[:], false)])
	return strings.Fields(s)[1]
}

// callers records the file written and the goroutines that wrote it.
type callers struct {
	bytes.Buffer
	ids map[string]bool
}

func (c *callers) Write(p []byte) (int, error) {
	c.ids[goid()] = true
	return c.Buffer.Write(p)
}

// A big document is written through the pipeline (the file by another
// goroutine than the caller's), a small one in the caller's goroutine
// alone; both, armored or not, are a store file that decrypts to the
// document's plaintext, with the size and digest encryptTo returns.
func TestPipelineTakenForBigDocuments(t *testing.T) {
	for _, tc := range []struct {
		n    int
		pipe bool
	}{{1000, false}, {50000, true}} {
		d, rs, id := pipeDoc(t, tc.n)
		if got := d.sizeHint() >= pipelineMin; got != tc.pipe {
			t.Fatalf("%d entries: sizeHint %d, pipelined %v, want %v", tc.n, d.sizeHint(), got, tc.pipe)
		}
		want, err := d.marshal()
		if err != nil {
			t.Fatal(err)
		}
		for _, armored := range []bool{false, true} {
			f := &File{armored: armored}
			w := &callers{ids: map[string]bool{}}
			size, digest, err := f.encryptTo(w, d, rs)
			if err != nil {
				t.Fatal(err)
			}
			if other := len(w.ids) > 1 || !w.ids[goid()]; other != tc.pipe {
				t.Errorf("%d entries, armored %v: written by goroutines %v (the caller is %s), want pipelined %v", tc.n, armored, w.ids, goid(), tc.pipe)
			}
			if size != int64(w.Len()) || digest != sha256.Sum256(w.Bytes()) {
				t.Errorf("%d entries: size %d and digest %x, not the file's %d and %x", tc.n, size, digest, w.Len(), sha256.Sum256(w.Bytes()))
			}
			var r io.Reader = bytes.NewReader(w.Bytes())
			if armored {
				r = armor.NewReader(r)
			}
			dr, err := age.Decrypt(r, id)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(dr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%d entries, armored %v: the file decrypts to %d bytes, not the document's %d", tc.n, armored, len(got), len(want))
			}
		}
	}
}

// failAfter passes on n bytes, then fails every write.
type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	k := f.n
	f.n = 0
	return k, f.err
}

// An error of the file in the pipeline, at its start, in its middle or at
// its end, is what encryptTo returns, and every goroutine of the pipeline
// has ended when it does.
func TestPipelineWriteError(t *testing.T) {
	d, rs, _ := pipeDoc(t, 50000)
	injected := errors.New("injected write fault")
	before := runtime.NumGoroutine()
	for _, at := range []int{0, 100, 1 << 20, 4<<20 + 17} {
		for _, armored := range []bool{false, true} {
			f := &File{armored: armored}
			_, _, err := f.encryptTo(&failAfter{n: at, err: injected}, d, rs)
			if err != injected {
				t.Errorf("a write failing after %d bytes (armored %v): err = %v, want the writer's error as it is", at, armored, err)
			}
		}
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left running after failed writes, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkEncrypt compares the two ways to write a 100,000-entry
// document (14 MiB) to a file: in the caller's goroutine alone and
// through the pipeline. Alternate them (-count) on a machine otherwise
// idle: the pipeline's gain is in wall time, with a second CPU.
func BenchmarkEncrypt(b *testing.B) {
	d, rs, _ := pipeDoc(b, 100000)
	name := filepath.Join(b.TempDir(), "store.age")
	for _, way := range []struct {
		name string
		fn   func(io.Writer, *document, []age.Recipient, bool) (int64, [sha256.Size]byte, error)
	}{{"sequential", encryptSequential}, {"pipelined", encryptPipelined}} {
		b.Run(way.name, func(b *testing.B) {
			cpu0 := cpuTime(b)
			for range b.N {
				fh, err := os.Create(name)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := way.fn(fh, d, rs, false); err != nil {
					b.Fatal(err)
				}
				fh.Close()
			}
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the CPU time (user and system) the process used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
