package gitstore

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/store"
)

// commit is one version of the store in a model of git's history.
type commit struct {
	data    []byte
	parents []int
}

// history is the commits of a repository shared by members; commit 0 is
// the first.
type history []commit

// ancestors returns the commits reachable from c, c included.
func (h history) ancestors(c int) map[int]bool {
	seen := map[int]bool{}
	stack := []int{c}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !seen[n] {
			seen[n] = true
			stack = append(stack, h[n].parents...)
		}
	}
	return seen
}

// mergeBase returns the newest common ancestor of a and b (commits are
// numbered in the order they were made).
func (h history) mergeBase(a, b int) int {
	aa, bb := h.ancestors(a), h.ancestors(b)
	best := -1
	for c := range aa {
		if bb[c] && c > best {
			best = c
		}
	}
	return best
}

// propMember is one member's clone: a work-tree store, its own accepted
// state, and the commit it has checked out.
type propMember struct {
	id    *age.X25519Identity
	path  string
	state string
	head  int
}

func (m *propMember) open(t *testing.T) *store.File {
	t.Helper()
	f, err := store.Open(m.path, store.Options{Identities: []age.Identity{m.id}, StateDir: m.state})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestIntegrityNeverTripsMembers is SPEC §3's property: three members
// (each with a clone and an accepted state of their own) make 200 random
// interleaved writes, recipient changes (adding and removing outsiders,
// rekeys) and merges (git's three-way merge through MergeFiles, or a fast
// forward), and no member's integrity check ever refuses what a member
// wrote. Set HUSH_PROPERTY_SEED to replay a run; the seed is logged.
func TestIntegrityNeverTripsMembers(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("HUSH_PROPERTY_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (HUSH_PROPERTY_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	ctx := context.Background()
	dir := t.TempDir()

	var members []*propMember
	var rs []string
	for i := range 3 {
		id, _ := age.GenerateX25519Identity()
		members = append(members, &propMember{id: id, path: filepath.Join(dir, "clone"+strconv.Itoa(i), "store.age"), state: filepath.Join(dir, "state"+strconv.Itoa(i))})
		rs = append(rs, id.Recipient().String())
	}
	var outsiders []string
	for range 3 {
		id, _ := age.GenerateX25519Identity()
		outsiders = append(outsiders, id.Recipient().String())
	}
	m0 := members[0]
	if _, err := store.Create(ctx, m0.path, rs, store.Options{StateDir: m0.state}); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(m0.path)
	h := history{{data: first}}
	for _, m := range members {
		checkout(t, m, h, 0)
	}

	const ops = 200
	var writes, rotations, merges, ffs, conflicts int
	for op := range ops {
		m := members[rng.IntN(len(members))]
		f := m.open(t)
		var err error
		what := ""
		switch k := rng.IntN(10); {
		case k < 4:
			what = "write"
			name := "K" + strconv.Itoa(rng.IntN(8))
			err = f.Set(ctx, name, []byte(strconv.Itoa(op)))
			writes++
		case k < 6:
			out := outsiders[rng.IntN(len(outsiders))]
			cur, rerr := f.Recipients(ctx)
			if rerr != nil {
				t.Fatalf("op %d: %v", op, rerr)
			}
			if containsKey(cur, out) {
				what = "remove an outsider"
				err = f.RemoveRecipients(ctx, []string{out}, false)
			} else {
				what = "add an outsider"
				err = f.AddRecipients(ctx, []string{out})
			}
			rotations++
		case k < 7:
			what = "rekey"
			err = f.Rekey(ctx)
			rotations++
		default:
			other := members[rng.IntN(len(members))]
			what = "merge"
			kind, conflict := pull(t, m, other, &h)
			switch kind {
			case "ff":
				ffs++
			case "merge":
				merges++
			}
			if conflict {
				conflicts++
			}
			if rng.IntN(2) == 0 { // m pushes, other pulls
				if kind, _ := pull(t, other, m, &h); kind == "ff" {
					ffs++
				}
			}
		}
		if err != nil {
			t.Fatalf("op %d (%s by member %d): %v", op, what, slices.Index(members, m), err)
		}
		if what != "merge" {
			data, _ := os.ReadFile(m.path)
			h = append(h, commit{data: data, parents: []int{m.head}})
			m.head = len(h) - 1
		}
		// every member reads what it has checked out
		for i, r := range members {
			if _, err := r.open(t).List(ctx); err != nil {
				t.Fatalf("op %d (%s by member %d): member %d: %v", op, what, slices.Index(members, m), i, err)
			}
		}
	}
	t.Logf("%d writes, %d recipient changes and rekeys, %d merges (%d with conflicts), %d fast forwards", writes, rotations, merges, conflicts, ffs)
}

// checkout puts commit c in m's work tree, replacing the file as git does.
func checkout(t *testing.T, m *propMember, h history, c int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(m.path), 0o700); err != nil {
		t.Fatal(err)
	}
	tmp := m.path + ".tmp"
	if err := os.WriteFile(tmp, h[c].data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, m.path); err != nil {
		t.Fatal(err)
	}
	m.head = c
}

// pull brings other's commit into m's clone as git pull does: nothing if
// m has it, a fast forward if m's is an ancestor, else a merge commit
// made by MergeFiles (the merge driver), with conflicts left as the
// driver leaves them (ours for each, as a person who keeps ours would).
func pull(t *testing.T, m, other *propMember, h *history) (kind string, conflict bool) {
	t.Helper()
	switch {
	case h.ancestors(m.head)[other.head]:
		return "none", false
	case h.ancestors(other.head)[m.head]:
		checkout(t, m, *h, other.head)
		return "ff", false
	}
	dir := t.TempDir()
	base, theirs := filepath.Join(dir, "base"), filepath.Join(dir, "theirs")
	os.WriteFile(base, (*h)[h.mergeBase(m.head, other.head)].data, 0o600)
	os.WriteFile(theirs, (*h)[other.head].data, 0o600)
	_, err := MergeFiles(base, m.path, theirs, MergeFilesOptions{Identities: []age.Identity{m.id}})
	if err != nil && !errors.Is(err, ErrConflict) {
		t.Fatalf("merge: %v", err)
	}
	data, _ := os.ReadFile(m.path)
	*h = append(*h, commit{data: data, parents: []int{m.head, other.head}})
	m.head = len(*h) - 1
	return "merge", err != nil
}
