package archtest

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/hush-secrets/hush"

// root is the module's root directory.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", dir, err)
	}
	return dir
}

// mapRow is one folder of the map: what it may import inside the module.
type mapRow struct {
	folder  string
	imports []string
}

// rowRE matches a row of the map's table: | `folder/` | what it does | `a`, `b` |
var rowRE = regexp.MustCompile("^\\|\\s*`([a-z0-9/]+)/?`\\s*\\|[^|]*\\|([^|]*)\\|\\s*$")

// readMap parses the table under the first heading of docs/ARCHITECTURE.md
// ("## Map"): one row per package folder.
func readMap(t *testing.T, dir string) []mapRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []mapRow
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			if in {
				break
			}
			in = line == "## Map"
			continue
		}
		if !in {
			continue
		}
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		row := mapRow{folder: strings.TrimSuffix(m[1], "/")}
		for _, w := range regexp.MustCompile("`([a-z0-9/]+)/?`").FindAllStringSubmatch(m[2], -1) {
			row.imports = append(row.imports, strings.TrimSuffix(w[1], "/"))
		}
		slices.Sort(row.imports)
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("docs/ARCHITECTURE.md has no map: want a '## Map' section with a table of | `folder/` | what it does | `imports` |")
	}
	return rows
}

type goPackage struct {
	ImportPath string
	Dir        string
	Imports    []string
	GoFiles    []string
}

// packages lists the module's packages with `go list -json ./...`.
func packages(t *testing.T, dir string) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var ps []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func rel(p string) string {
	if p == module {
		return "."
	}
	return strings.TrimPrefix(p, module+"/")
}

// TestMapMatchesImports checks every package against the map: a package
// has a row, and its non-test imports inside the module are exactly the
// ones its row lists, so the map's arrows are the ones go list finds.
func TestMapMatchesImports(t *testing.T) {
	dir := root(t)
	rows := readMap(t, dir)
	byFolder := map[string]mapRow{}
	for _, r := range rows {
		if _, dup := byFolder[r.folder]; dup {
			t.Errorf("map: %s has two rows", r.folder)
		}
		byFolder[r.folder] = r
	}
	seen := map[string]bool{}
	for _, p := range packages(t, dir) {
		name := rel(p.ImportPath)
		if len(p.GoFiles) == 0 {
			continue // tests only
		}
		seen[name] = true
		row, ok := byFolder[name]
		if !ok {
			t.Errorf("map: package %s has no row", name)
			continue
		}
		var got []string
		for _, imp := range p.Imports {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				got = append(got, rel(imp))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, row.imports) {
			t.Errorf("map: %s may import %q, but imports %q", name, row.imports, got)
		}
	}
	for _, r := range rows {
		if !seen[r.folder] {
			t.Errorf("map: row %s names no package with Go files", r.folder)
		}
	}
}

// libraries are the packages a Go program may import: they take paths and
// settings from their caller and never read the environment.
var libraries = []string{"store", "scope", "migrate", "formats", "gitstore"}

// forbiddenInLibraries are calls through which a package would read the
// environment or guess a default path on its own.
var forbiddenInLibraries = regexp.MustCompile(`\bos\.(Getenv|LookupEnv|Environ|ExpandEnv|UserHomeDir|UserConfigDir|UserCacheDir)\b|\bsyscall\.(Getenv|Environ)\b`)

// goFiles calls fn for every non-test Go file of the module under folder.
func goFiles(t *testing.T, dir, folder string, fn func(path string, src []byte)) {
	t.Helper()
	base := filepath.Join(dir, folder)
	if _, err := os.Stat(base); err != nil {
		return
	}
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(dir, p)
		fn(r, src)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLibrariesReadNoEnvironment: library packages (and their internal
// packages) get every path and setting from their caller.
func TestLibrariesReadNoEnvironment(t *testing.T) {
	dir := root(t)
	for _, lib := range libraries {
		goFiles(t, dir, lib, func(p string, src []byte) {
			for i, line := range strings.Split(string(src), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "//") {
					continue
				}
				if m := forbiddenInLibraries.FindString(line); m != "" {
					t.Errorf("%s:%d: library code calls %s; take it from the caller (the CLI reads the environment)", p, i+1, m)
				}
			}
		})
	}
}

// TestHouseRules: no unsafe outside tests, no non-test Go file over 500
// lines, no leftover work markers.
func TestHouseRules(t *testing.T) {
	dir := root(t)
	marker := regexp.MustCompile(`\b(TODO|FIXME|XXX|HACK)\b`)
	goFiles(t, dir, ".", func(p string, src []byte) {
		if strings.Contains(string(src), `"unsafe"`) {
			t.Errorf("%s imports unsafe", p)
		}
		if n := strings.Count(string(src), "\n"); n > 500 {
			t.Errorf("%s is %d lines; split it (the house keeps non-test files under 500)", p, n)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if marker.MatchString(line) {
				t.Errorf("%s:%d: leftover marker: %s", p, i+1, strings.TrimSpace(line))
			}
		}
	})
}
