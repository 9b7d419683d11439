package gitstore

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/hush-secrets/hush/store"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func ent(v string, day int) store.SnapshotEntry {
	return store.SnapshotEntry{Value: []byte(v), Created: t0, Updated: t0.AddDate(0, 0, day)}
}

func snap(rs []string, kv ...any) *store.Snapshot {
	s := &store.Snapshot{Recipients: rs, Entries: map[string]store.SnapshotEntry{}}
	for i := 0; i < len(kv); i += 2 {
		s.Entries[kv[i].(string)] = kv[i+1].(store.SnapshotEntry)
	}
	return s
}

func values(s *store.Snapshot) map[string]string {
	m := map[string]string{}
	for n, e := range s.Entries {
		m[n] = string(e.Value)
	}
	return m
}

func conflictNames(cs []Conflict) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestMergeEntries(t *testing.T) {
	rs := []string{"r1"}
	base := snap(rs, "KEEP", ent("k", 0), "A", ent("a0", 0), "B", ent("b0", 0), "GONE", ent("g", 0))
	cases := []struct {
		name         string
		ours, theirs *store.Snapshot
		want         map[string]string
		conflicts    []string
	}{
		{"one side each",
			snap(rs, "KEEP", ent("k", 0), "A", ent("a1", 1), "B", ent("b0", 0), "GONE", ent("g", 0), "NEW_A", ent("na", 1)),
			snap(rs, "KEEP", ent("k", 0), "A", ent("a0", 0), "B", ent("b2", 2), "NEW_B", ent("nb", 2)),
			map[string]string{"KEEP": "k", "A": "a1", "B": "b2", "NEW_A": "na", "NEW_B": "nb"}, nil},
		{"same change both sides",
			snap(rs, "KEEP", ent("k", 0), "A", ent("same", 1), "B", ent("b0", 0), "GONE", ent("g", 0)),
			snap(rs, "KEEP", ent("k", 0), "A", ent("same", 2), "B", ent("b0", 0)),
			map[string]string{"KEEP": "k", "A": "same", "B": "b0"}, nil},
		{"changed differently",
			snap(rs, "KEEP", ent("k", 0), "A", ent("ours", 1), "B", ent("b0", 0), "GONE", ent("g", 0)),
			snap(rs, "KEEP", ent("k", 0), "A", ent("theirs", 2), "B", ent("b0", 0), "GONE", ent("g", 0), "X", ent("x", 2)),
			map[string]string{"KEEP": "k", "A": "ours", "B": "b0", "GONE": "g", "X": "x"}, []string{"A"}},
		{"changed by us, deleted by them",
			snap(rs, "KEEP", ent("k", 0), "A", ent("a1", 1), "B", ent("b0", 0), "GONE", ent("g", 0)),
			snap(rs, "KEEP", ent("k", 0), "B", ent("b0", 0), "GONE", ent("g", 0)),
			map[string]string{"KEEP": "k", "A": "a1", "B": "b0", "GONE": "g"}, []string{"A"}},
		{"deleted by us, changed by them",
			snap(rs, "KEEP", ent("k", 0), "B", ent("b0", 0), "GONE", ent("g", 0)),
			snap(rs, "KEEP", ent("k", 0), "A", ent("a2", 2), "B", ent("b0", 0), "GONE", ent("g", 0)),
			map[string]string{"KEEP": "k", "B": "b0", "GONE": "g"}, []string{"A"}},
		{"added differently on both sides",
			snap(rs, "KEEP", ent("k", 0), "A", ent("a0", 0), "B", ent("b0", 0), "GONE", ent("g", 0), "N", ent("n1", 1)),
			snap(rs, "KEEP", ent("k", 0), "A", ent("a0", 0), "B", ent("b0", 0), "GONE", ent("g", 0), "N", ent("n2", 2)),
			map[string]string{"KEEP": "k", "A": "a0", "B": "b0", "GONE": "g", "N": "n1"}, []string{"N"}},
		{"deleted on both sides",
			snap(rs, "KEEP", ent("k", 0), "A", ent("a0", 0), "B", ent("b0", 0)),
			snap(rs, "KEEP", ent("k", 0), "A", ent("a0", 0), "B", ent("b0", 0)),
			map[string]string{"KEEP": "k", "A": "a0", "B": "b0"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, conflicts := Merge(base, c.ours, c.theirs)
			if diff := cmp.Diff(c.want, values(got)); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.conflicts, conflictNames(conflicts)); diff != "" {
				t.Errorf("conflicts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeMetadata(t *testing.T) {
	rs := []string{"r1"}
	o := ent("v0", 0)
	o.Description = "old"
	a := ent("v1", 3) // ours changes the value
	a.Description = "old"
	b := ent("v0", 5) // theirs changes the description
	b.Description = "new"
	got, cs := Merge(snap(rs, "K", o), snap(rs, "K", a), snap(rs, "K", b))
	if len(cs) != 0 {
		t.Fatalf("conflicts %v", cs)
	}
	want := store.SnapshotEntry{Value: []byte("v1"), Description: "new", Created: t0, Updated: t0.AddDate(0, 0, 5)}
	if diff := cmp.Diff(want, got.Entries["K"]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A one-sided change keeps that side's metadata as it is.
	a.Description = "ours only"
	got, _ = Merge(snap(rs, "K", o), snap(rs, "K", a), snap(rs, "K", o))
	if diff := cmp.Diff(a, got.Entries["K"]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Both sides changing the description differently conflicts.
	b.Description = "theirs"
	if _, cs := Merge(snap(rs, "K", o), snap(rs, "K", a), snap(rs, "K", b)); len(cs) != 1 {
		t.Errorf("description conflict not found: %v", cs)
	}
}

// Recipients merge three-way as sets of keys: one side's change is
// taken; changes on both sides are a conflict naming the recipients (the
// result keeps ours), unless both made the same set.
func TestMergeRecipients(t *testing.T) {
	const (
		k1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1 one@laptop"
		k2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1 one@desktop"
	)
	cases := []struct {
		name               string
		base, ours, theirs []string
		want               []string
		conflict           string
	}{
		{"added on each side", []string{"a"}, []string{"a", "b"}, []string{"a", "c"}, []string{"a", "b"}, "ours +b, theirs +c"},
		{"removed by us", []string{"a", "b"}, []string{"a"}, []string{"a", "b"}, []string{"a"}, ""},
		{"removed by them", []string{"a", "b"}, []string{"a", "b"}, []string{"a"}, []string{"a"}, ""},
		{"added by them", []string{"a", "b"}, []string{"a", "b"}, []string{"a", "b", "c"}, []string{"a", "b", "c"}, ""},
		{"removed by us, kept and another added by them", []string{"a", "b"}, []string{"a"}, []string{"a", "b", "c"}, []string{"a"}, "ours -b, theirs +c"},
		{"removed by them, added back by us", []string{"a"}, []string{"a", "b"}, []string{"b"}, []string{"a", "b"}, "ours +b, theirs +b -a"},
		{"added on both sides", []string{"a"}, []string{"a", "b"}, []string{"b", "a"}, []string{"a", "b"}, ""},
		{"the same key with another comment", []string{k1}, []string{k1, "a"}, []string{k2, "a"}, []string{k1, "a"}, ""},
		{"no base", nil, []string{"a"}, []string{"b"}, []string{"a"}, "ours +a, theirs +b"},
		{"no base, the same set", nil, []string{"a", "b"}, []string{"b", "a"}, []string{"a", "b"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, cs := Merge(snap(c.base), snap(c.ours), snap(c.theirs))
			if diff := cmp.Diff(c.want, got.Recipients); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			switch {
			case c.conflict == "" && len(cs) != 0:
				t.Errorf("conflicts %v", cs)
			case c.conflict != "" && (len(cs) != 1 || cs[0].Name != "" || cs[0].Reason != "recipients changed on both sides: "+c.conflict):
				t.Errorf("conflicts %v, want one naming %q", cs, c.conflict)
			}
		})
	}
}

func TestMergeFingerprintKeyConverges(t *testing.T) {
	rs := []string{"r"}
	a := snap(rs, FingerprintKeyName, ent("bbbb", 1), "X", ent("x", 1))
	b := snap(rs, FingerprintKeyName, ent("aaaa", 2), "Y", ent("y", 2))
	m1, c1 := Merge(nil, a, b)
	m2, c2 := Merge(nil, b, a)
	if len(c1)+len(c2) != 0 {
		t.Fatalf("conflicts %v %v", c1, c2)
	}
	if v1, v2 := string(m1.Entries[FingerprintKeyName].Value), string(m2.Entries[FingerprintKeyName].Value); v1 != "aaaa" || v2 != "aaaa" {
		t.Errorf("key %q / %q, want aaaa from both sides", v1, v2)
	}
}

func TestMergeArmorFollowsOurs(t *testing.T) {
	a, b := snap([]string{"r"}), snap([]string{"r"})
	a.Armored = true
	if m, _ := Merge(nil, a, b); !m.Armored {
		t.Error("armored ours merged into a binary store")
	}
	if m, _ := Merge(nil, b, a); m.Armored {
		t.Error("binary ours merged into an armored store")
	}
}

// TestMergeProperties checks the algebra of the merge on random stores:
// a one-sided change is taken whole, identical sides merge to themselves,
// and swapping sides finds the same conflicts and, apart from the names in
// conflict, the same result.
func TestMergeProperties(t *testing.T) {
	genSnap := func(t *rapid.T, label string) *store.Snapshot {
		s := &store.Snapshot{Entries: map[string]store.SnapshotEntry{}}
		s.Recipients = rapid.SliceOfDistinct(rapid.SampledFrom([]string{"r1", "r2", "r3", "r4"}), rapid.ID[string]).Draw(t, label+"-recipients")
		names := rapid.SliceOfDistinct(rapid.SampledFrom([]string{"A", "B", "C", "D", "E"}), rapid.ID[string]).Draw(t, label+"-names")
		for _, n := range names {
			s.Entries[n] = store.SnapshotEntry{
				Value:       []byte(rapid.SampledFrom([]string{"1", "2", "3"}).Draw(t, label+"-v")),
				Description: rapid.SampledFrom([]string{"", "d"}).Draw(t, label+"-d"),
			}
		}
		return s
	}
	rapid.Check(t, func(t *rapid.T) {
		o, a, b := genSnap(t, "o"), genSnap(t, "a"), genSnap(t, "b")
		if m, cs := Merge(o, a, o); len(cs) != 0 || !cmp.Equal(values(m), values(a)) {
			t.Fatalf("theirs unchanged: got %v conflicts %v, want ours %v", values(m), cs, values(a))
		}
		if m, cs := Merge(o, o, b); len(cs) != 0 || !cmp.Equal(values(m), values(b)) {
			t.Fatalf("ours unchanged: got %v conflicts %v, want theirs %v", values(m), cs, values(b))
		}
		if m, cs := Merge(o, a, a); len(cs) != 0 || !cmp.Equal(values(m), values(a)) {
			t.Fatalf("same both sides: got %v conflicts %v", values(m), cs)
		}
		m1, c1 := Merge(o, a, b)
		m2, c2 := Merge(o, b, a)
		n1, n2 := conflictNames(c1), conflictNames(c2)
		if !slices.Equal(n1, n2) {
			t.Fatalf("conflicts differ by side: %v vs %v", n1, n2)
		}
		v1, v2 := values(m1), values(m2)
		for _, n := range n1 {
			delete(v1, n)
			delete(v2, n)
		}
		if !cmp.Equal(v1, v2) {
			t.Fatalf("clean names merge differently by side: %v vs %v", v1, v2)
		}
		if slices.Contains(n1, "") {
			// Recipients changed on both sides: each keeps its own.
			if !slices.Equal(m1.Recipients, a.Recipients) || !slices.Equal(m2.Recipients, b.Recipients) {
				t.Fatalf("a recipients conflict did not keep ours: %v %v", m1.Recipients, m2.Recipients)
			}
			return
		}
		r1, r2 := slices.Sorted(slices.Values(m1.Recipients)), slices.Sorted(slices.Values(m2.Recipients))
		if !slices.Equal(r1, r2) {
			t.Fatalf("recipients differ by side: %v vs %v", r1, r2)
		}
		for _, r := range m1.Recipients {
			inA, inB, inO := slices.Contains(a.Recipients, r), slices.Contains(b.Recipients, r), slices.Contains(o.Recipients, r)
			if !(inA && inB) && inO {
				t.Fatalf("recipient %s removed on one side survived", r)
			}
		}
	})
}
