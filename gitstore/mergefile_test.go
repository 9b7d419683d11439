package gitstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/internal/atomicfile/atomicfiletest"
	"github.com/hush-secrets/hush/store"
)

// writeVersions writes base, ours and theirs as store files in a fresh
// directory and returns their paths.
func writeVersions(t *testing.T, base, ours, theirs *store.Snapshot) (o, a, b string) {
	t.Helper()
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "base"), filepath.Join(dir, "ours"), filepath.Join(dir, "theirs")}
	for i, s := range []*store.Snapshot{base, ours, theirs} {
		var data []byte
		if s != nil {
			data = encrypt(t, s)
		}
		if err := os.WriteFile(paths[i], data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return paths[0], paths[1], paths[2]
}

func TestMergeFilesConflictKeepsValidOurs(t *testing.T) {
	me, _ := age.GenerateX25519Identity()
	rs := []string{me.Recipient().String()}
	o, a, b := writeVersions(t,
		snap(rs, "K", ent("CANARY-base", 0)),
		snap(rs, "K", ent("CANARY-ours", 1)),
		snap(rs, "K", ent("CANARY-theirs", 2), "NEW", ent("CANARY-new", 2)))
	rep, err := MergeFiles(o, a, b, MergeFilesOptions{Identities: []age.Identity{me}, Path: "s.age"})
	var ce *ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want a ConflictError", err)
	}
	if msg := err.Error(); msg != "merge conflict in s.age: K (changed on both sides)" || strings.Contains(msg, "CANARY") {
		t.Errorf("message %q", msg)
	}
	if len(rep.Conflicts) != 1 {
		t.Errorf("report %+v", rep)
	}
	data, _ := os.ReadFile(a)
	got, err := store.DecryptSnapshot(data, []age.Identity{me})
	if err != nil {
		t.Fatalf("ours after a conflict is not a valid store: %v", err)
	}
	if v := values(got); v["K"] != "CANARY-ours" || v["NEW"] != "CANARY-new" {
		t.Errorf("ours after a conflict: %v", v)
	}
	if fi, _ := os.Stat(a); fi.Mode().Perm() != 0o600 {
		t.Errorf("ours mode %04o", fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(a), atomicfile.TempPrefix(a)+"*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestMergeFilesUnreadableVersionLeavesOurs(t *testing.T) {
	me, _ := age.GenerateX25519Identity()
	other, _ := age.GenerateX25519Identity()
	mine, theirsOnly := []string{me.Recipient().String()}, []string{other.Recipient().String()}
	for _, which := range []string{"base", "theirs"} {
		t.Run(which, func(t *testing.T) {
			base, theirs := snap(mine, "K", ent("v", 0)), snap(mine, "K", ent("v", 0))
			if which == "base" {
				base.Recipients = theirsOnly // e.g. I was added after the common ancestor
			} else {
				theirs.Recipients = theirsOnly
			}
			o, a, b := writeVersions(t, base, snap(mine, "K", ent("w", 1)), theirs)
			before, _ := os.ReadFile(a)
			_, err := MergeFiles(o, a, b, MergeFilesOptions{Identities: []age.Identity{me}})
			var ve *VersionError
			if !errors.As(err, &ve) || ve.Which != which || !errors.Is(err, store.ErrDecrypt) {
				t.Fatalf("err = %v, want a VersionError for %s wrapping ErrDecrypt", err, which)
			}
			if after, _ := os.ReadFile(a); !bytes.Equal(before, after) {
				t.Error("ours changed after a failed merge")
			}
		})
	}
}

// Recipients removed on both sides are a conflict: the file is left
// encrypted to ours, with every clean entry change, for a person to
// decide; the error names the recipients.
func TestMergeFilesRecipientsOnBothSides(t *testing.T) {
	x, _ := age.GenerateX25519Identity()
	y, _ := age.GenerateX25519Identity()
	z, _ := age.GenerateX25519Identity()
	rx, ry, rz := x.Recipient().String(), y.Recipient().String(), z.Recipient().String()
	o, a, b := writeVersions(t, snap([]string{rx, ry, rz}), snap([]string{ry, rz}, "A", ent("a", 1)), snap([]string{rx, rz}, "B", ent("b", 1)))
	rep, err := MergeFiles(o, a, b, MergeFilesOptions{Identities: []age.Identity{x, y}})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "recipients changed on both sides: ours -"+rx+", theirs -"+ry) {
		t.Fatalf("err = %v", err)
	}
	if rep == nil || rep.LostAccess || len(rep.RecipientsAdded)+len(rep.RecipientsRemoved) != 0 {
		t.Errorf("report %+v", rep)
	}
	data, _ := os.ReadFile(a)
	got, err := store.DecryptSnapshot(data, []age.Identity{y})
	if err != nil {
		t.Fatal(err)
	}
	if v := values(got); v["A"] != "a" || v["B"] != "b" || !slices.Equal(got.Recipients, []string{ry, rz}) {
		t.Errorf("merged %v %v", v, got.Recipients)
	}
	if _, err := store.DecryptSnapshot(data, []age.Identity{x}); !errors.Is(err, store.ErrDecrypt) {
		t.Error("a recipient ours removed can read the merge")
	}
}

func TestMergeFilesEmptyBase(t *testing.T) {
	me, _ := age.GenerateX25519Identity()
	r1 := me.Recipient().String()
	o, a, b := writeVersions(t, nil, snap([]string{r1}, "A", ent("a", 1)), snap([]string{r1}, "B", ent("b", 1)))
	os.Remove(o) // missing and empty are the same: no common ancestor
	for i := 0; i < 2; i++ {
		if _, err := MergeFiles(o, a, b, MergeFilesOptions{Identities: []age.Identity{me}}); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(a)
		got, _ := store.DecryptSnapshot(data, []age.Identity{me})
		if v := values(got); v["A"] != "a" || v["B"] != "b" {
			t.Errorf("add/add merged %v", v)
		}
		os.WriteFile(o, nil, 0o600)
	}
}

// The driver's write is atomic but unsynced (atomicfile.NoSync: git stores
// the result itself and can redo the merge): no fsync of ours or of its
// directory. A write that fails at the rename leaves ours byte-identical
// and no temp file.
func TestMergeFilesWriteUnsyncedAndAtomic(t *testing.T) {
	me, _ := age.GenerateX25519Identity()
	rs := []string{me.Recipient().String()}
	o, a, b := writeVersions(t, snap(rs, "K", ent("v", 0)), snap(rs, "K", ent("v", 0), "A", ent("a", 1)), snap(rs, "K", ent("v", 0), "B", ent("b", 1)))
	before, _ := os.ReadFile(a)
	var fail bool
	steps := map[atomicfile.Step]int{}
	atomicfiletest.Inject(t, func(target string, s atomicfile.Step) error {
		if target != a {
			return nil
		}
		steps[s]++
		if fail && s == atomicfile.StepRename {
			return errors.New("injected")
		}
		return nil
	})
	fail = true
	if _, err := MergeFiles(o, a, b, MergeFilesOptions{Identities: []age.Identity{me}}); err == nil {
		t.Fatal("merge succeeded despite a failed rename")
	}
	if after, _ := os.ReadFile(a); !bytes.Equal(before, after) {
		t.Error("ours changed after a failed write")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(a), atomicfile.TempPrefix(a)+"*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	fail = false
	clear(steps)
	if _, err := MergeFiles(o, a, b, MergeFilesOptions{Identities: []age.Identity{me}}); err != nil {
		t.Fatal(err)
	}
	if steps[atomicfile.StepRename] != 1 || steps[atomicfile.StepSync] != 0 || steps[atomicfile.StepDirSync] != 0 {
		t.Errorf("steps %v: want one rename and no fsync", steps)
	}
}

// The merge driver never runs a plugin for a recipient that theirs
// planted: with no accepted state, only plugin recipients ours has are
// encrypted to; the merge fails with ErrUntrusted and ours is untouched.
func TestMergeFilesPlantedPlugin(t *testing.T) {
	bin := t.TempDir()
	marker := filepath.Join(bin, "marker")
	script := "#!/bin/sh\ntouch " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "age-plugin-x"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	x, _ := age.GenerateX25519Identity()
	rx := x.Recipient().String()
	const planted = "age1x1wpkxzmn5v4jz6un9vd5hq6t9de6z6erpw3sstxwuts"
	o, a, b := writeVersions(t, snap([]string{rx}), snap([]string{rx}, "A", ent("a", 1)), nil)
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, x.Recipient())
	w.Write([]byte(`{"version":1,"recipients":["` + rx + `","` + planted + `"],"entries":{}}`))
	w.Close()
	if err := os.WriteFile(b, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(a)
	_, err := MergeFiles(o, a, b, MergeFilesOptions{Identities: []age.Identity{x}})
	if !errors.Is(err, store.ErrUntrusted) || !strings.Contains(err.Error(), "age-plugin-x") {
		t.Fatalf("err = %v, want ErrUntrusted naming the plugin", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the merge ran the planted plugin")
	}
	if after, _ := os.ReadFile(a); !bytes.Equal(before, after) {
		t.Error("ours changed")
	}
}
