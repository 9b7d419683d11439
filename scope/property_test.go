package scope_test

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

// propNames is the pool of names every view draws from: the same names in
// every view, names that look reserved (refused by User, ordinary inside a
// scope), names that merely contain the prefix, and one invalid name.
// rapid favours the first elements, so reserved-looking names come early.
var propNames = []string{"x", "__hush_a_x", "y", "__hush_b_x", "x__hush_a_y", "TOKEN", "__hush_", "a",
	"__hush_x", "__hushx", "bad name"}

// propView is one of the views under test and how its names map to keys.
type propView struct {
	id   string // "user", or the scope name
	p    store.Provider
	user bool
}

// key is the stored key of name in v. The model spells the layout out
// itself rather than calling the code under test.
func (v propView) key(name string) string {
	if v.user {
		return name
	}
	return "__hush_" + v.id + "_" + name
}

// wantErr is the error the model expects from op on name in v, or nil.
func (v propView) wantErr(op, name string, present bool) error {
	switch {
	case v.user && strings.HasPrefix(name, "__hush_"):
		return scope.ErrReserved
	case store.ValidateName(name) != nil: // in every view, Get and Delete included
		return store.ErrInvalidName
	case (op == "get" || op == "delete") && !present:
		return store.ErrNotFound
	}
	return nil
}

type subOp struct {
	op, name string
	value    []byte
}

var errAbort = errors.New("batch aborted on purpose")

// TestIsolationProperty drives random sequences of operations through one
// User view and two Scoped views ("a" and "b") over one real file store and
// checks, after every step and against a plain map per view, that each
// view sees, reads, changes and deletes exactly its own keys.
func TestIsolationProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		f := newFile(t)
		views := []propView{{id: "user", p: scope.User(f), user: true}}
		for _, s := range []string{"a", "b"} {
			v, err := scope.Scoped(f, s)
			if err != nil {
				rt.Fatal(err)
			}
			views = append(views, propView{id: s, p: v})
		}
		model := map[string]map[string][]byte{"user": {}, "a": {}, "b": {}}

		genView := rapid.SampledFrom(views)
		genName := rapid.SampledFrom(propNames)
		genValue := rapid.SliceOfN(rapid.Byte(), 0, 6)
		genSub := rapid.Custom(func(rt *rapid.T) subOp {
			return subOp{rapid.SampledFrom([]string{"set", "delete", "get"}).Draw(rt, "txop"),
				genName.Draw(rt, "txname"), genValue.Draw(rt, "txvalue")}
		})

		// Sets are drawn most, so that batches and cleanups meet keys.
		genOp := rapid.SampledFrom([]string{"set", "set", "set", "get", "delete", "deletemany", "deletemany",
			"cleanup", "list", "update", "update"})
		steps := rapid.IntRange(1, 20).Draw(rt, "steps")
		for range steps {
			v := genView.Draw(rt, "view")
			m := model[v.id]
			op := genOp.Draw(rt, "op")
			switch op {
			case "set":
				name, value := genName.Draw(rt, "name"), genValue.Draw(rt, "value")
				want := v.wantErr("set", name, false)
				checkErr(rt, v, "Set", v.p.Set(ctx, name, value), want, name)
				if want == nil {
					m[name] = value
				}
			case "get":
				name := genName.Draw(rt, "name")
				got, err := v.p.Get(ctx, name)
				_, present := m[name]
				checkErr(rt, v, "Get", err, v.wantErr("get", name, present), name)
				if present && !bytes.Equal(got, m[name]) {
					rt.Fatalf("%s: Get(%s) = %q, want %q", v.id, name, got, m[name])
				}
			case "delete":
				name := genName.Draw(rt, "name")
				_, present := m[name]
				want := v.wantErr("delete", name, present)
				checkErr(rt, v, "Delete", v.p.Delete(ctx, name), want, name)
				if want == nil {
					delete(m, name)
				}
			case "deletemany":
				// Some names the view holds, some from the pool, in any order.
				names := rapid.SliceOfN(genName, 1, 3).Draw(rt, "names")
				if held := slices.Sorted(maps.Keys(m)); len(held) > 0 {
					names = append(names, rapid.SliceOfN(rapid.SampledFrom(held), 1, 2).Draw(rt, "held")...)
				}
				names = rapid.Permutation(names).Draw(rt, "order")
				var want error
				for _, n := range names {
					if want = v.wantErr("deletemany", n, true); want != nil {
						break
					}
				}
				checkErr(rt, v, "DeleteMany", store.DeleteMany(ctx, v.p, names), want, names...)
				if want == nil {
					for _, n := range names {
						delete(m, n)
					}
				}
			case "cleanup":
				checkErr(rt, v, "Cleanup", store.Cleanup(ctx, v.p), nil)
				clear(m)
			case "list":
				// checked after every step
			case "update":
				subs := rapid.SliceOfN(genSub, 1, 4).Draw(rt, "subs")
				abort := rapid.Bool().Draw(rt, "abort")
				sim := maps.Clone(m)
				var want error
				err := store.Update(ctx, v.p, func(tx store.Tx) error {
					for _, s := range subs {
						_, present := sim[s.name]
						w := v.wantErr(s.op, s.name, present)
						var err error
						switch s.op {
						case "set":
							err = tx.Set(s.name, s.value)
						case "delete":
							err = tx.Delete(s.name)
						case "get":
							var got []byte
							got, err = tx.Get(s.name)
							if err == nil && !bytes.Equal(got, sim[s.name]) {
								rt.Fatalf("%s: tx.Get(%s) = %q, want %q", v.id, s.name, got, sim[s.name])
							}
						}
						checkErr(rt, v, "tx."+s.op, err, w, s.name)
						if s.op == "get" {
							continue
						}
						if w != nil {
							want = w
							return err
						}
						if s.op == "set" {
							sim[s.name] = s.value
						} else {
							delete(sim, s.name)
						}
					}
					es, err := tx.List()
					if err != nil {
						rt.Fatalf("%s: tx.List: %v", v.id, err)
					}
					if got, want := names(es), slices.Sorted(maps.Keys(sim)); !slices.Equal(got, want) {
						rt.Fatalf("%s: tx.List = %q, want %q", v.id, got, want)
					}
					if abort {
						want = errAbort
						return errAbort
					}
					return nil
				})
				checkErr(rt, v, "Update", err, want, subNames(subs)...)
				if want == nil {
					model[v.id] = sim
				}
			}
			checkIsolation(rt, f, views, model)
		}
	})
}

// checkErr fails unless err wraps want (or both are nil). The error must be
// a *store.KeyError naming one of the names the caller used (names), and
// an error from a scoped view must not show its prefix outside them.
func checkErr(rt *rapid.T, v propView, what string, err, want error, names ...string) {
	rt.Helper()
	if want == nil {
		if err != nil {
			rt.Fatalf("%s: %s: unexpected error %v", v.id, what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		rt.Fatalf("%s: %s = %v, want an error wrapping %v", v.id, what, err, want)
	}
	if want == errAbort {
		return
	}
	var ke *store.KeyError
	if !errors.As(err, &ke) || !slices.Contains(names, ke.Name) {
		rt.Fatalf("%s: %s: error %v does not name one of %q", v.id, what, err, names)
	}
	if v.user {
		return
	}
	// Mask the caller's own names that contain the prefix; what remains
	// must not show the prefix anywhere.
	prefix := v.key("")
	masked := err.Error()
	own := slices.Clone(names)
	slices.SortFunc(own, func(a, b string) int { return len(b) - len(a) })
	for _, n := range own {
		if strings.Contains(n, prefix) {
			masked = strings.ReplaceAll(masked, n, "\x00")
		}
	}
	if strings.Contains(masked, prefix) {
		rt.Fatalf("%s: %s: error %q shows the scope prefix", v.id, what, err)
	}
}

// checkIsolation compares the store and every view with the model: the
// raw store holds exactly the union of the views' keys with their values,
// each view lists exactly its own names, reads its own values, and reads
// none of the names it does not hold.
func checkIsolation(rt *rapid.T, f *store.File, views []propView, model map[string]map[string][]byte) {
	rt.Helper()
	raw := map[string][]byte{}
	for _, v := range views {
		for n, val := range model[v.id] {
			raw[v.key(n)] = val
		}
	}
	es, err := f.List(ctx)
	if err != nil {
		rt.Fatal(err)
	}
	if got, want := names(es), slices.Sorted(maps.Keys(raw)); !slices.Equal(got, want) {
		rt.Fatalf("the store holds %q, want %q", got, want)
	}
	for k, val := range raw {
		got, err := f.Get(ctx, k)
		if err != nil || !bytes.Equal(got, val) {
			rt.Fatalf("store key %s = %q, %v; want %q", k, got, err, val)
		}
	}
	for _, v := range views {
		m := model[v.id]
		es, err := v.p.List(ctx)
		if err != nil {
			rt.Fatalf("%s: List: %v", v.id, err)
		}
		if got, want := names(es), slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
			rt.Fatalf("%s: List = %q, want %q", v.id, got, want)
		}
		for _, n := range propNames {
			got, err := v.p.Get(ctx, n)
			want, present := m[n]
			checkErr(rt, v, "Get", err, v.wantErr("get", n, present), n)
			if present && !bytes.Equal(got, want) {
				rt.Fatalf("%s: Get(%s) = %q, want %q", v.id, n, got, want)
			}
		}
	}
}

func subNames(subs []subOp) []string {
	out := make([]string, len(subs))
	for i, s := range subs {
		out[i] = s.name
	}
	return out
}
