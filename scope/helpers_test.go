package scope_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/hush-secrets/hush/store"
	"github.com/hush-secrets/hush/store/storetest"
)

var ctx = context.Background()

// call is one call seen by a recorder: the method and the name(s) it got.
type call struct{ op, name string }

// recorder wraps a Provider, records every call (including calls on the Tx
// of an Update, as "tx.get" and so on) and fails the calls listed in fail.
// It is the only fake in these tests; it exists to inject faults and to
// prove that a view did not call its inner Provider at all. It is built on
// storetest.Wrap, with store.Updater hidden; withUpdate shows it. Like
// storetest.Wrap it has DeleteMany and Cleanup methods.
type recorder struct {
	bulk                // p wrapped, without Update
	u    store.Provider // p wrapped, Updater iff p is
	mu   sync.Mutex
	log  []call
	fail map[call]error
}

// bulk is a Provider with both optional bulk methods.
type bulk interface {
	store.DeleteManyProvider
	store.CleanupProvider
}

// recorderU is a recorder whose inner Provider is an Updater.
type recorderU struct {
	*recorder
	store.Updater
}

var (
	_ store.Provider = (*recorder)(nil)
	_ store.Updater  = recorderU{}
)

func record(p store.Provider) *recorder {
	r := &recorder{fail: map[call]error{}}
	r.bulk = storetest.Wrap(struct{ store.Provider }{p}, r.note).(bulk)
	r.u = storetest.Wrap(p, r.note)
	return r
}

// withUpdate returns r as an Updater; the inner Provider must be one.
func (r *recorder) withUpdate() recorderU { return recorderU{r, r.u.(store.Updater)} }

func (r *recorder) note(op, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := call{op, name}
	r.log = append(r.log, c)
	return r.fail[c]
}

func (r *recorder) calls() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = nil
}

// called reports whether op was called with name.
func (r *recorder) called(op, name string) bool {
	return slices.Contains(r.calls(), call{op, name})
}

// newFile returns a real, empty age file store.
func newFile(t testing.TB) *store.File {
	t.Helper()
	f, _ := storetest.NewFile(t)
	return f
}

// fileState is what a write would change: the store file's inode, times
// and bytes.
type fileState struct {
	ino   uint64
	mtime int64
	ctime int64
	data  []byte
}

func stateOf(t testing.TB, path string) fileState {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return fileState{ino: st.Ino, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(), data: b}
}

// noWrite records the store file's state and returns a function that fails
// the test if the file was written since.
func noWrite(t testing.TB, f *store.File) func() {
	t.Helper()
	before := stateOf(t, f.Path())
	return func() {
		t.Helper()
		after := stateOf(t, f.Path())
		if after.ino != before.ino || after.mtime != before.mtime || after.ctime != before.ctime || !bytes.Equal(after.data, before.data) {
			t.Errorf("the store file was written (inode %d -> %d)", before.ino, after.ino)
		}
	}
}

func set(t testing.TB, p store.Provider, name, value string) {
	t.Helper()
	if err := p.Set(ctx, name, []byte(value)); err != nil {
		t.Fatalf("Set(%s): %v", name, err)
	}
}

func wantValue(t testing.TB, p store.Provider, name, want string) {
	t.Helper()
	got, err := p.Get(ctx, name)
	if err != nil {
		t.Fatalf("Get(%s): %v", name, err)
	}
	if string(got) != want {
		t.Fatalf("Get(%s) = %q, want %q", name, got, want)
	}
}

func wantAbsent(t testing.TB, p store.Provider, name string) {
	t.Helper()
	_, err := p.Get(ctx, name)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%s) = %v, want not found", name, err)
	}
}

// wantKeyError checks that err is a *store.KeyError for op and name that
// wraps target, and that its message never shows a scope prefix.
func wantKeyError(t testing.TB, err error, op, name string, target error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s %s failing", op, name)
	}
	if target != nil && !errors.Is(err, target) {
		t.Fatalf("error %v does not wrap %v", err, target)
	}
	var ke *store.KeyError
	if !errors.As(err, &ke) {
		t.Fatalf("error %v (%T) is not a *store.KeyError", err, err)
	}
	if ke.Op != op || ke.Name != name {
		t.Fatalf("KeyError{Op: %q, Name: %q}, want {%q, %q} (error %v)", ke.Op, ke.Name, op, name, err)
	}
	// The name as KeyError renders it (quoted if it has odd bytes).
	said := strings.TrimSuffix((&store.KeyError{Op: op, Name: name, Err: errors.New("")}).Error(), ": ")
	if msg := err.Error(); !strings.Contains(msg, said) {
		t.Fatalf("error %q does not say %q", msg, said)
	}
}

// noPrefix fails if msg shows a scope prefix the caller did not ask about.
func noPrefix(t testing.TB, err error, scope string) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "__hush_"+scope+"_") {
		t.Fatalf("error %q shows the scope prefix", err)
	}
}

// names returns the names of es.
func names(es []store.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}

func list(t testing.TB, p store.Provider) []string {
	t.Helper()
	es, err := p.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return names(es)
}
