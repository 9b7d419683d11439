package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
)

// The test binary doubles as a client or a server running as another
// uid (see TestOtherUID*): it then does one thing and exits.
func init() {
	switch mode, path := os.Getenv("AGENT_TEST_MODE"), os.Getenv("AGENT_TEST_SOCK"); mode {
	case "dial": // a raw request, without the client's own checks
		c, err := net.Dial("unix", path)
		if err != nil {
			fmt.Println("dial:", err)
			os.Exit(1)
		}
		fmt.Fprintf(c, "{\"version\":%d,\"op\":\"status\"}\n", Version)
		b, err := io.ReadAll(c)
		fmt.Printf("answer: %q %v\n", b, err)
		os.Exit(0)
	case "serve":
		ln, err := Listen(path)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("listening")
		(&Server{IdleTimeout: 5 * time.Second}).Serve(context.Background(), ln)
		os.Exit(0)
	}
}

// startServer runs a server holding one X25519 identity source and
// returns its client, the identity's recipient and the source's Ref.
func startServer(t *testing.T, idle time.Duration) (*Client, *age.X25519Identity, Ref, chan string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	ref := RefOf("/keys/id.txt", []byte(id.String()))
	path := filepath.Join(t.TempDir(), "hush", "agent.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Sources: []Source{{Ref: ref, Identities: []age.Identity{id}}}, IdleTimeout: idle}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan string, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return c, id, ref, done
}

func encryptTo(t *testing.T, r age.Recipient) []*age.Stanza {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	return headerStanzas(t, buf.Bytes())
}

// headerStanzas records the stanzas that age.Decrypt hands an identity.
func headerStanzas(t *testing.T, file []byte) []*age.Stanza {
	t.Helper()
	rec := &recorder{}
	age.Decrypt(bytes.NewReader(file), rec)
	if rec.stanzas == nil {
		t.Fatal("no stanzas recorded")
	}
	return rec.stanzas
}

type recorder struct{ stanzas []*age.Stanza }

func (r *recorder) Unwrap(s []*age.Stanza) ([]byte, error) {
	r.stanzas = s
	return nil, age.ErrIncorrectIdentity
}

func TestUnwrapThroughAgent(t *testing.T) {
	c, id, ref, _ := startServer(t, time.Minute)
	st, err := c.Status()
	if err != nil {
		t.Fatal(err)
	}
	if !st.Holds(ref) || st.PID != os.Getpid() {
		t.Fatalf("status: %+v", st)
	}
	// The client identity decrypts a real file: the agent unwrapped it.
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, id.Recipient())
	io.WriteString(w, "payload")
	w.Close()
	r, err := age.Decrypt(&buf, c.Identity([]Ref{ref}))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "payload" {
		t.Fatalf("got %q", b)
	}
	// Another recipient's file: age.ErrIncorrectIdentity, as an identity.
	other, _ := age.GenerateX25519Identity()
	if _, err := c.Unwrap([]Ref{ref}, encryptTo(t, other.Recipient())); !errors.Is(err, age.ErrIncorrectIdentity) {
		t.Fatalf("foreign stanza: %v", err)
	}
	// A source with other content (the file changed) is not used.
	changed := Ref{Name: ref.Name, SHA256: strings.Repeat("0", 64)}
	if _, err := c.Unwrap([]Ref{changed}, encryptTo(t, id.Recipient())); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("changed file: %v", err)
	}
}

func TestStopForgets(t *testing.T) {
	c, _, _, done := startServer(t, time.Minute)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if why := <-done; why != "stop requested" {
		t.Fatalf("stopped because %q", why)
	}
	done <- "" // for the cleanup
	if _, err := os.Lstat(c.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket still there: %v", err)
	}
	if _, err := Open(c.Path()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("open after stop: %v", err)
	}
}

func TestIdleTimeout(t *testing.T) {
	c, id, ref, done := startServer(t, 300*time.Millisecond)
	// Unwraps keep it alive past the timeout.
	for range 4 {
		time.Sleep(100 * time.Millisecond)
		if _, err := c.Unwrap([]Ref{ref}, encryptTo(t, id.Recipient())); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case why := <-done:
		if why != "idle timeout" {
			t.Fatalf("stopped because %q", why)
		}
		done <- ""
	case <-time.After(10 * time.Second):
		t.Fatal("the agent outlived its idle timeout")
	}
}

func TestProtocolVersion(t *testing.T) {
	c, _, _, _ := startServer(t, time.Minute)
	_, err := c.roundTrip(&request{Op: "status"})
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{}
	if resp := srv.handle(&request{Version: 99, Op: "status"}); resp.Code != codeBad {
		t.Fatalf("version 99 answered %+v", resp)
	}
}

func TestUntrustedDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hush")
	path := filepath.Join(dir, "agent.sock")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path); !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "mode 0755") {
		t.Fatalf("listen in a 0755 directory: %v", err)
	}
	if _, err := Open(path); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("open in a 0755 directory: %v", err)
	}
	os.Remove(dir)
	real := t.TempDir()
	if err := os.Symlink(real, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("open through a symlinked directory: %v", err)
	}
	os.Remove(dir)
	if os.Getuid() != 0 {
		t.Skip("not root: cannot make a directory owned by another uid")
	}
	os.Mkdir(dir, 0o700)
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("open in another uid's directory: %v", err)
	}
}

// otherUIDRoot is a directory holding a static build of this test
// binary, for a process of another uid to run chrooted in it: hosts where
// / is not searchable by other users (containers) cannot run it from its
// own place, and a chroot needs no shared libraries.
var otherUIDRoot = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "agent-test")
	if err != nil {
		return "", err
	}
	os.Chmod(dir, 0o777)
	cmd := exec.Command("go", "test", "-c", "-o", filepath.Join(dir, "agent.test"), ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building a static test binary: %v\n%s", err, out)
	}
	return dir, nil
})

// asOtherUID runs this test binary as uid 65534, chrooted in root (see
// otherUIDRoot), in mode, with the socket at sock inside root.
func asOtherUID(t *testing.T, root, mode, sock string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/agent.test")
	cmd.Env = []string{"AGENT_TEST_MODE=" + mode, "AGENT_TEST_SOCK=" + sock}
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return cmd
}

func otherUIDRootOrSkip(t *testing.T) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("not root: cannot run a process as another uid (this check needs root)")
	}
	if testing.Short() {
		t.Skip("-short: skipping the build of a static test binary")
	}
	root, err := otherUIDRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestOtherUIDRefused: a process of another uid that reaches the socket
// (here the directory and socket are opened up on purpose) gets nothing.
func TestOtherUIDRefused(t *testing.T) {
	root := otherUIDRootOrSkip(t)
	id, _ := age.GenerateX25519Identity()
	dir, err := os.MkdirTemp(root, "run")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "hush", "agent.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Sources: []Source{{Ref: RefOf("x", nil), Identities: []age.Identity{id}}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan string)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	os.Chmod(dir, 0o711)
	os.Chmod(filepath.Dir(path), 0o711)
	os.Chmod(path, 0o666)
	inRoot := strings.TrimPrefix(path, root)
	out, err := asOtherUID(t, root, "dial", inRoot).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.HasPrefix(string(out), `answer: "" `) {
		t.Fatalf("the other uid's request was answered: %s", out)
	}
}

// TestOtherUIDServerRefused: a client never talks to a socket served by
// another uid, even one it reaches.
func TestOtherUIDServerRefused(t *testing.T) {
	root := otherUIDRootOrSkip(t)
	dir, err := os.MkdirTemp(root, "run")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777)
	sock := filepath.Join(dir, "hush", "agent.sock")
	cmd := asOtherUID(t, root, "serve", strings.TrimPrefix(sock, root))
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make([]byte, 200)
	n, _ := out.Read(line)
	if !strings.HasPrefix(string(line[:n]), "listening") {
		t.Fatalf("other-uid server: %q", line[:n])
	}
	if _, err := Open(sock); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("open of another uid's agent: %v", err)
	}
	// Past the file checks (as root), the peer credentials still refuse it.
	if _, err := (&Client{path: sock}).Status(); !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "runs as uid 65534") {
		t.Fatalf("status from another uid's agent: %v", err)
	}
}
