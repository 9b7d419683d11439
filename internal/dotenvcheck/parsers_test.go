package dotenvcheck

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	composedotenv "github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/joho/godotenv"

	"github.com/hush-secrets/hush/formats"
)

// A parser reads a dotenv file the way one program does. read returns the
// values it got by name, or an error when the program refuses the whole
// file. A parser that is not installed has a skip message instead, naming
// how to install it.
type parser struct {
	name    string
	version string // what was run, for the log
	skip    string
	read    func(t *testing.T, file string, names []string) (map[string][]byte, error)
}

func parsers(t *testing.T) []parser {
	return []parser{
		{name: "hush", version: "formats.ParseDotenv", read: readHush},
		{name: "compose", version: "compose-go/v2 dotenv.GetEnvFromFile", read: readCompose},
		{name: "godotenv", version: "joho/godotenv Read", read: readGodotenv},
		npmParser(t),
		pythonParser(t),
		systemdParser(t),
		bashParser(t),
	}
}

func mapOf(ss []formats.Secret) map[string][]byte {
	m := map[string][]byte{}
	for _, s := range ss {
		m[s.Name] = s.Value
	}
	return m
}

func strMap(m map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

func readHush(t *testing.T, file string, _ []string) (map[string][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ss, err := formats.ParseDotenv(f)
	return mapOf(ss), err
}

// readCompose reads the file as docker compose reads an env_file or the
// project's .env: GetEnvFromFile, with an empty environment to look
// variables up in.
func readCompose(_ *testing.T, file string, _ []string) (map[string][]byte, error) {
	m, err := composedotenv.GetEnvFromFile(map[string]string{}, []string{file})
	return strMap(m), err
}

func readGodotenv(_ *testing.T, file string, _ []string) (map[string][]byte, error) {
	m, err := godotenv.Read(file)
	return strMap(m), err
}

// runReader runs an external reader that writes each value it read to
// OUTDIR/NAME, in an environment with nothing but PATH (so that
// interpolation finds no variables).
func runReader(t *testing.T, name string, args ...string) (map[string][]byte, error) {
	t.Helper()
	out := t.TempDir()
	for i, a := range args {
		if a == "OUTDIR" {
			args[i] = out
		}
	}
	cmd := exec.Command(name, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	got := map[string][]byte{}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = b
	}
	if runErr != nil {
		return got, errors.New(strings.TrimSpace(lastLine(stderr.String())))
	}
	return got, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func testdata(t *testing.T, name string) string {
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func npmParser(t *testing.T) parser {
	p := parser{name: "npm"}
	node, err := exec.LookPath("node")
	if err != nil {
		p.skip = "node is not installed (apt-get install nodejs npm, then npm ci in internal/dotenvcheck)"
		return p
	}
	v, err := exec.Command(node, "-p", "require('dotenv/package.json').version").Output()
	if err != nil {
		p.skip = "npm dotenv is not installed: run npm ci in internal/dotenvcheck"
		return p
	}
	p.version = "dotenv " + strings.TrimSpace(string(v)) + " parse"
	p.read = func(t *testing.T, file string, _ []string) (map[string][]byte, error) {
		return runReader(t, node, testdata(t, "read_npm.js"), file, "OUTDIR")
	}
	return p
}

// python finds a python3 that imports dotenv: $HUSH_DOTENVCHECK_PYTHON if
// set, else Debian's (python3-dotenv, what CI installs), else the one on
// PATH.
func python() (path, version string) {
	candidates := []string{"/usr/bin/python3", "python3"}
	if py := os.Getenv("HUSH_DOTENVCHECK_PYTHON"); py != "" {
		candidates = []string{py}
	}
	for _, py := range candidates {
		out, err := exec.Command(py, "-c", "import dotenv, importlib.metadata as m; print(m.version('python-dotenv'))").Output()
		if err == nil {
			return py, strings.TrimSpace(string(out))
		}
	}
	return "", ""
}

func pythonParser(t *testing.T) parser {
	p := parser{name: "python"}
	py, v := python()
	if py == "" {
		p.skip = "python-dotenv is not installed (apt-get install python3-dotenv)"
		return p
	}
	p.version = "python-dotenv " + v + " dotenv_values"
	p.read = func(t *testing.T, file string, _ []string) (map[string][]byte, error) {
		return runReader(t, py, testdata(t, "read_python.py"), file, "OUTDIR")
	}
	return p
}

// systemdParser reads the file with systemd's own EnvironmentFile= code,
// in libsystemd-shared, through Python's ctypes: systemd-run needs a
// running systemd, which a container or CI job does not have.
func systemdParser(t *testing.T) parser {
	p := parser{name: "systemd"}
	var libs []string
	for _, g := range []string{"/usr/lib/*/systemd/libsystemd-shared-*.so", "/lib/*/systemd/libsystemd-shared-*.so", "/usr/lib/systemd/libsystemd-shared-*.so", "/usr/lib64/systemd/libsystemd-shared-*.so"} {
		m, _ := filepath.Glob(g)
		libs = append(libs, m...)
	}
	py, err := exec.LookPath("python3")
	switch {
	case len(libs) == 0:
		p.skip = "libsystemd-shared is not installed (apt-get install systemd)"
		return p
	case err != nil:
		p.skip = "python3 (for ctypes) is not installed (apt-get install python3)"
		return p
	}
	p.version = filepath.Base(libs[0]) + " load_env_file"
	p.read = func(t *testing.T, file string, _ []string) (map[string][]byte, error) {
		return runReader(t, py, testdata(t, "read_systemd.py"), libs[0], file, "OUTDIR")
	}
	return p
}

func bashParser(t *testing.T) parser {
	p := parser{name: "bash"}
	bash, err := exec.LookPath("bash")
	if err != nil {
		p.skip = "bash is not installed (apt-get install bash)"
		return p
	}
	v, _ := exec.Command(bash, "-c", "echo $BASH_VERSION").Output()
	p.version = "bash " + strings.TrimSpace(string(v)) + " set -a; ."
	p.read = func(t *testing.T, file string, names []string) (map[string][]byte, error) {
		return runReader(t, bash, append([]string{testdata(t, "read_bash.sh"), file, "OUTDIR"}, names...)...)
	}
	return p
}
