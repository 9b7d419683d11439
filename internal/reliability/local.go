package main

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
)

// otherUID is the other local user of the local part: the attacker who
// owns what they planted.
const otherUID = 65534

// runLocal runs the local-attacker corpus: what another local user can
// plant next to a store (links and pipes at the lock path, hard links,
// writable directories, files they own, links where an output goes) is
// refused with its exit code and writes nothing. The cases that give a
// file to another user need root; without it they are counted as skipped.
func runLocal(ctx context.Context, s *suite) error {
	const part = "local"
	cases, skipped := localCorpus(os.Geteuid() == 0)
	if err := runCorpus(ctx, s, part, cases,
		"planted files refused with their exit code, nothing written through them"); err != nil {
		return err
	}
	s.rep.info(part, "cases skipped (giving a file to another uid needs root)", skipped)
	return nil
}

// localCorpus is the local part's table. The cases for which root is
// needed are left out unless root is true; skipped counts them.
func localCorpus(root bool) (cases []badCase, skipped int) {
	cases = []badCase{
		// The lock file: never followed, never anything but a regular file.
		{name: "lock path: a dangling symlink to where a file would be made", args: []string{"set", "new"}, stdin: "v", code: 4, want: "symbolic link",
			setup: plantAtLock(func(f *fixture, p string) error { return os.Symlink(filepath.Join(f.home, inDir, "planted"), p) })},
		{name: "lock path: a symlink to the identity", args: []string{"set", "new"}, stdin: "v", code: 4,
			setup: plantAtLock(func(f *fixture, p string) error { return os.Symlink(f.idPath, p) })},
		{name: "lock path: a named pipe", args: []string{"set", "new"}, stdin: "v", code: 4, want: "named pipe",
			setup: plantAtLock(func(_ *fixture, p string) error { return syscall.Mkfifo(p, 0o666) })},
		{name: "lock path: a symlink, HUSH_ALLOW_INSECURE_PERMS=1", args: []string{"set", "new"}, stdin: "v", env: []string{"HUSH_ALLOW_INSECURE_PERMS=1"}, code: 4,
			setup: plantAtLock(func(f *fixture, p string) error { return os.Symlink(filepath.Join(f.home, inDir, "planted"), p) })},
		{name: "lock path of a new store: a dangling symlink", args: []string{"--store", "{in}/new/store.age", "init", "-r", "{recipient}"}, code: 4,
			setup: plantNewStoreLock},

		// The store: a second name, or a directory others can write.
		{name: "store hard-linked under another name (get)", args: []string{"get", "exists"}, code: 4, want: "hard links", setup: hardLinkStore},
		{name: "store hard-linked under another name (set)", args: []string{"set", "new"}, stdin: "v", code: 4, setup: hardLinkStore},
		{name: "store directory group-writable (0770)", args: []string{"get", "exists"}, code: 4, setup: chmodStoreDir(0o770)},
		{name: "store directory world-writable (0777)", args: []string{"set", "new"}, stdin: "v", code: 4, setup: chmodStoreDir(0o777)},

		// Outputs: a dangling link is never written through.
		{name: "get -o a dangling symlink", args: []string{"get", "-o", "{in}/dangling-out", "exists"}, code: 4},
		{name: "export -o a dangling symlink", args: []string{"export", "-o", "{in}/dangling-out"}, code: 4},
		{name: "keygen -o a dangling symlink", args: []string{"keygen", "-o", "{in}/dangling-out"}, code: 4},
		{name: "init --store a dangling symlink", args: []string{"--store", "{in}/dangling-out", "init", "-r", "{recipient}"}, code: 4},
	}
	owned := []badCase{
		{name: "store owned by another user (get)", args: []string{"get", "exists"}, code: 4, want: "owned by another user", setup: giveAway(storeFile)},
		{name: "store owned by another user (set)", args: []string{"set", "new"}, stdin: "v", code: 4, setup: giveAway(storeFile)},
		{name: "lock owned by another user", args: []string{"set", "new"}, stdin: "v", code: 4, want: "owned by another user", setup: giveAway(lockFile)},
		{name: "identity owned by another user", args: []string{"get", "exists"}, code: 4, want: "owned by another user", setup: giveAway(identityFile)},
		{name: "get -o a symlink another user planted in a sticky shared directory", args: []string{"get", "-o", "{in}/shared/out", "exists"}, code: 4,
			setup: plantInShared},
	}
	if root {
		return append(cases, owned...), 0
	}
	return cases, len(owned)
}

// plantAtLock replaces the store's lock file with what plant makes at its
// path, for one case.
func plantAtLock(plant func(f *fixture, lock string) error) func(f *fixture) (func(), error) {
	return func(f *fixture) (func(), error) {
		lock := f.path + ".lock"
		if err := os.Remove(lock); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		restore := func() {
			os.Remove(lock)
			os.WriteFile(lock, nil, 0o600)
		}
		if err := plant(f, lock); err != nil {
			restore()
			return nil, err
		}
		return restore, nil
	}
}

// plantNewStoreLock makes in/new with a dangling link at the lock path of
// in/new/store.age.
func plantNewStoreLock(f *fixture) (func(), error) {
	in := filepath.Join(f.home, inDir)
	dir := filepath.Join(in, "new")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Symlink(filepath.Join(in, "planted"), filepath.Join(dir, "store.age.lock")); err != nil {
		return nil, err
	}
	return func() { os.RemoveAll(dir) }, nil
}

// hardLinkStore gives the store a second name in the input directory.
func hardLinkStore(f *fixture) (func(), error) {
	link := filepath.Join(f.home, inDir, "store-link")
	if err := os.Link(f.path, link); err != nil {
		return nil, err
	}
	return func() { os.Remove(link) }, nil
}

// chmodStoreDir makes the store's directory mode m for one case.
func chmodStoreDir(m os.FileMode) func(f *fixture) (func(), error) {
	return func(f *fixture) (func(), error) {
		if err := os.Chmod(f.dir, m); err != nil {
			return nil, err
		}
		return func() { os.Chmod(f.dir, 0o700) }, nil
	}
}

func storeFile(f *fixture) string    { return f.path }
func lockFile(f *fixture) string     { return f.path + ".lock" }
func identityFile(f *fixture) string { return f.idPath }

// giveAway makes the file which names owned by otherUID for one case.
func giveAway(which func(*fixture) string) func(f *fixture) (func(), error) {
	return func(f *fixture) (func(), error) {
		p := which(f)
		if err := os.Lchown(p, otherUID, otherUID); err != nil {
			return nil, err
		}
		return func() { os.Lchown(p, os.Getuid(), os.Getgid()) }, nil
	}
}

// plantInShared makes in/shared a sticky world-writable directory (a
// /tmp) holding out, a link owned by otherUID to in/victim, a file of the
// caller's that a secret written through the link would replace.
func plantInShared(f *fixture) (func(), error) {
	in := filepath.Join(f.home, inDir)
	shared := filepath.Join(in, "shared")
	victim := filepath.Join(in, "victim")
	undo := func() { os.RemoveAll(shared); os.Remove(victim) }
	if err := os.Mkdir(shared, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		undo()
		return nil, err
	}
	if err := os.WriteFile(victim, []byte("the caller's file\n"), 0o600); err != nil {
		undo()
		return nil, err
	}
	out := filepath.Join(shared, "out")
	if err := os.Symlink(victim, out); err != nil {
		undo()
		return nil, err
	}
	if err := os.Lchown(out, otherUID, otherUID); err != nil {
		undo()
		return nil, err
	}
	return undo, nil
}
