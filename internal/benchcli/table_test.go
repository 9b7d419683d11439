package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// bin holds the binaries TestMain builds: hush, floorwrite, and
// standinage as "age".
var bin string

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "benchcli-test-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		for name, pkg := range map[string]string{
			"hush":       "github.com/hush-secrets/hush/cmd/hush",
			"floorwrite": "./floorwrite",
			"age":        "./testdata/standinage",
		} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				os.Stderr.WriteString("benchcli test: go build " + pkg + ": " + err.Error() + "\n")
				return 1
			}
		}
		bin = dir
		return m.Run()
	}()
	os.Exit(code)
}

// touchSources stats every Go file of the module, so that go test's cache
// of this package's result goes stale when a binary TestMain builds
// changes (go test tracks the files a test opens or stats once it runs,
// not those a go build in TestMain reads).
func touchSources() {
	filepath.WalkDir(filepath.Join("..", ".."), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum") {
			os.Stat(p)
		}
		return nil
	})
}

// TestTableSmoke runs the whole table once on a 10-entry store and checks
// its rows (not its times): every command of issue 21 against its floor,
// and the RSS line.
func TestTableSmoke(t *testing.T) {
	touchSources()
	work := t.TempDir()
	cfg := tableConfig{
		hush: filepath.Join(bin, "hush"), age: filepath.Join(bin, "age"),
		floor: filepath.Join(bin, "floorwrite"), work: work, sizes: []int{10}, runs: 1,
	}
	res, err := runTable(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printTable(&out, res)
	t.Logf("table:\n%s", &out)
	// The import row's runs kept their accepted state apart from HOME's.
	if m, _ := filepath.Glob(filepath.Join(work, "10", "state", "hush", "*")); len(m) == 0 {
		t.Error("the import row left no accepted state of its own (XDG_STATE_HOME)")
	}

	var got []string
	for line := range strings.Lines(out.String()) {
		cells := strings.Split(line, "|")
		switch {
		case len(cells) < 4 || strings.TrimSpace(cells[1]) != "10":
		case len(cells) == 14: // | entries | command | floor | ... | met |
			got = append(got, strings.TrimSpace(cells[2])+" | "+strings.TrimSpace(cells[3]))
		case len(cells) == 9: // | entries | plaintext | store file | get RSS | set RSS | limit | met |
			got = append(got, "peak RSS, limit "+strings.TrimSpace(cells[6]))
		default:
			got = append(got, line)
		}
	}
	want := []string{
		"get | age -d",
		"set | floor write",
		"rm | floor write",
		"mv | floor write",
		"import 10 entries | floor write",
		"migrate apply, 10 keys | floor write",
		"peak RSS, limit 16.0 MiB",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows of the 10-entry table:\n got %q\nwant %q", got, want)
	}
	for _, r := range res[0].rows {
		if r.runs != 1 || r.hush.wall <= 0 || r.floor.wall <= 0 || r.hush.cpu <= 0 || r.floor.cpu <= 0 {
			t.Errorf("%s: runs %d, hush %+v, floor %+v: want one run with positive times", r.command, r.runs, r.hush, r.floor)
		}
	}
	if get, set := res[0].peakRSS("get"), res[0].peakRSS("set"); get <= 0 || set <= 0 {
		t.Errorf("peak RSS of get %d, set %d: want both positive", get, set)
	}

	// The last row timed migrate apply: the store hush left (and the
	// floor rewrote) holds the moved keys, not the old ones.
	dir := filepath.Join(work, "10")
	hushOut := decrypt(t, cfg, filepath.Join(dir, "floor-source.age"))
	floorOut := decrypt(t, cfg, filepath.Join(dir, "floor", "store.age"))
	if !bytes.Equal(hushOut, floorOut) {
		t.Errorf("the floor write changed the plaintext:\n%s\nbecame\n%s", hushOut, floorOut)
	}
	if !bytes.Contains(hushOut, []byte(`"__hush_bench_SECRET_000009"`)) || bytes.Contains(hushOut, []byte(`"SECRET_000009"`)) {
		t.Errorf("migrate apply did not move SECRET_000009 into the scope bench:\n%s", hushOut)
	}
	if ents, err := os.ReadDir(filepath.Join(dir, "floor")); err != nil || len(ents) != 1 {
		t.Errorf("the floor's directory holds %v (%v), want store.age alone", ents, err)
	}
}

// With -rows get, the table times get alone, and prints no set RSS.
func TestTableRows(t *testing.T) {
	touchSources()
	cfg := tableConfig{
		hush: filepath.Join(bin, "hush"), age: filepath.Join(bin, "age"),
		floor: filepath.Join(bin, "floorwrite"), work: t.TempDir(), sizes: []int{10}, runs: 1, rows: []string{"get"},
	}
	res, err := runTable(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].rows) != 1 || res[0].rows[0].command != "get" {
		t.Fatalf("rows %+v; want get alone", res)
	}
	var out bytes.Buffer
	printTable(&out, res)
	if !strings.Contains(out.String(), "| 10 | ") || !strings.Contains(out.String(), " | - | ") {
		t.Errorf("table without set:\n%s", &out)
	}
}

func decrypt(t *testing.T, cfg tableConfig, path string) []byte {
	t.Helper()
	out, err := exec.Command(cfg.age, "-d", "-i", filepath.Join(cfg.work, "home", ".config", "hush", "identity.txt"), path).Output()
	if err != nil {
		t.Fatalf("decrypt %s: %v", path, err)
	}
	return out
}

func TestParseTableFlags(t *testing.T) {
	cfg, err := parseTableFlags([]string{"-hush", "h", "-age", "a", "-floor", "f", "-work", "w", "-sizes", "1000, 10_000,100000"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.sizes, []int{1000, 10000, 100000}) || cfg.runs != 0 {
		t.Errorf("sizes %v runs %d, want [1000 10000 100000] and 0", cfg.sizes, cfg.runs)
	}
	cfg, err = parseTableFlags([]string{"-hush", "h", "-age", "a", "-floor", "f", "-work", "w", "-rows", "get, import"})
	if err != nil || !slices.Equal(cfg.rows, []string{"get", "import"}) || !cfg.timed("get") || cfg.timed("set") {
		t.Errorf("-rows get,import: rows %q, %v", cfg.rows, err)
	}
	for _, args := range [][]string{
		{"-hush", "h", "-age", "a", "-floor", "f", "-work", "w", "-rows", "get,nope"},
		{"-hush", "h", "-age", "a", "-floor", "f"},                              // no -work
		{"-hush", "h", "-age", "a", "-floor", "f", "-work", "w", "-sizes", "0"}, // not positive
		{"-hush", "h", "-age", "a", "-floor", "f", "-work", "w", "extra"},
	} {
		if _, err := parseTableFlags(args); err == nil {
			t.Errorf("parseTableFlags(%q) = nil error, want a usage error", args)
		}
	}
}

func TestFormats(t *testing.T) {
	for n, want := range map[int]string{7: "7", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	if got := secretName(42, width(100000)); got != "SECRET_000042" {
		t.Errorf("secretName(42) = %q, want SECRET_000042", got)
	}
	if got := bytesize(2*143<<10 + 16<<20); got != "16.3 MiB" {
		t.Errorf("bytesize = %q, want 16.3 MiB", got)
	}
}

// copyFile never holds the file: benchcli's own peak RSS shows in every
// child's (see copyFile), so a store read into memory would be counted
// as hush's.
func TestCopyFileStreams(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
	if err := os.WriteFile(src, big, 0o600); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := copyFile(src, dst); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("copyFile of 16 MiB allocated %d bytes", n)
	}
	if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("copy differs: %v", err)
	}
}
