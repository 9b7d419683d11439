package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// cleanerArg, as hush's first argument, runs the watcher of exec --file
// (runCleaner) instead of the command line: hush re-executes itself with
// it before exec, so that no cobra set-up is paid for.
const cleanerArg = "__exec-file-cleaner"

// cleanerPrefix starts the name of every --file directory; the watcher
// removes nothing else.
const cleanerPrefix = "hush-exec-"

// shmDir is the shared memory file system, the fallback of memoryDir (a
// variable so that a test can take it away).
var shmDir = "/dev/shm"

// memoryFS reports whether the file system of path keeps its files in
// memory only (tmpfs, ramfs).
func memoryFS(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC
}

// memoryDir makes a new private (0700) directory for --file on a memory
// file system: in runtimeDir ($XDG_RUNTIME_DIR) when it is one, owned by
// this user and closed to others, else in /dev/shm when that is one. It
// never falls back to a disk: with neither, it fails (errRefused, exit 4).
func memoryDir(runtimeDir string) (string, error) {
	var bases []string
	if filepath.IsAbs(runtimeDir) {
		if fi, err := os.Stat(runtimeDir); err == nil && fi.IsDir() && fi.Mode().Perm()&0o077 == 0 &&
			fi.Sys().(*syscall.Stat_t).Uid == uint32(os.Geteuid()) {
			bases = append(bases, runtimeDir)
		}
	}
	bases = append(bases, shmDir)
	for _, base := range bases {
		if !memoryFS(base) {
			continue
		}
		dir, err := os.MkdirTemp(base, cleanerPrefix)
		if err != nil {
			continue
		}
		if err := os.Chmod(dir, 0o700); err != nil { // MkdirTemp makes 0700 less the umask
			os.Remove(dir)
			continue
		}
		return dir, nil
	}
	return "", withHint(fmt.Errorf("exec: --file: %w: %w", errRefused, errNoMemoryFS),
		"set XDG_RUNTIME_DIR to a tmpfs directory of yours (a login session has one), or pass the secret with --secret")
}

// startCleaner starts the watcher of dir: a copy of hush, in a session of
// its own (so a terminal's ^C or the command's process group being killed
// do not reach it), holding a pidfd of this process. Since exec(2) keeps
// the process, the pidfd becomes readable when the command exits, however
// it exits, kill -9 included, and the watcher then removes dir. It shares
// only stderr, to report a failure to remove.
func startCleaner(dir string, stderr io.Writer) error {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return fmt.Errorf("exec: --file: watching this process (pidfd_open, Linux 5.3 or later): %w", err)
	}
	pidfd := os.NewFile(uintptr(fd), "pidfd")
	defer pidfd.Close()
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{"hush", cleanerArg, dir},
		Env:         cleanerEnv(),
		ExtraFiles:  []*os.File{pidfd},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if f, ok := stderr.(*os.File); ok {
		cmd.Stderr = f
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("exec: --file: starting the watcher that removes the files: %w", err)
	}
	cmd.Process.Release() // the command, which this process becomes, is not told of it
	return nil
}

// cleanerEnv is the watcher's environment: nothing of the command's but
// GORACE, which only a race-enabled build (the tests') reads.
func cleanerEnv() []string {
	if v, ok := os.LookupEnv("GORACE"); ok {
		return []string{"GORACE=" + v}
	}
	return []string{}
}

// runCleaner is the watcher: it waits until the process of the pidfd on
// descriptor 3 exits, or until it is told to stop (SIGTERM, SIGINT,
// SIGHUP), then removes dir. It refuses to run without a pidfd, or for a
// directory that is not one of exec --file's.
func runCleaner(args []string, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "hush: exec --file: "+format+"\n", a...)
		return exitError
	}
	if len(args) != 1 || !strings.HasPrefix(filepath.Base(args[0]), cleanerPrefix) || !filepath.IsAbs(args[0]) {
		return fail("the watcher was started wrongly")
	}
	dir := args[0]
	if link, err := os.Readlink("/proc/self/fd/3"); err != nil || link != "anon_inode:[pidfd]" {
		return fail("the watcher has no process to watch")
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP)
	exited := make(chan error, 1)
	go func() {
		fds := []unix.PollFd{{Fd: 3, Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(fds, -1)
			if !errors.Is(err, unix.EINTR) {
				exited <- err
				return
			}
		}
	}()
	select {
	case <-exited:
	case <-sigs:
	}
	if err := os.RemoveAll(dir); err != nil {
		return fail("removing %s: %v", dir, err)
	}
	return exitOK
}
