package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hush-secrets/hush/formats"
)

// This file decides what the child of hush exec finds in its environment
// (docs/CLI.md, "hush exec: the child's environment", documents it and a
// test checks that every name below is listed there).

// identityVars hold the key to the store. They are removed from the
// environment the child inherits.
var identityVars = []string{"HUSH_IDENTITY", "HUSH_IDENTITY_FILE"}

// pristineVars are what --pristine keeps of hush's own environment, in
// this order, each only when set.
var pristineVars = []string{"PATH", "HOME", "USER", "LANG", "TERM", "TZ"}

// loaderVars name variables that change how a program is loaded, which
// code an interpreter runs first, or how a shell starts. A secret is set
// under one of these names only when the user names it explicitly
// (--only, --secret); otherwise it is skipped with a warning.
var loaderVars = []string{
	// the shell: start files, word splitting, tracing, options
	"BASH_ENV", "ENV", "PATH", "CDPATH", "IFS", "SHELLOPTS", "BASHOPTS",
	"PS4", "PROMPT_COMMAND", "GLOBIGNORE", "BASH_XTRACEFD", "ZDOTDIR",
	// glibc: the variables it ignores in setuid programs
	"GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES",
	"LOCALDOMAIN", "LOCPATH", "NIS_PATH", "NLSPATH", "RESOLV_HOST_CONF",
	"RES_OPTIONS", "TMPDIR", "TZDIR",
	// interpreters: module paths, start-up code, options
	"PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONINSPECT",
	"PYTHONBREAKPOINT", "PYTHONWARNINGS", "PYTHONUSERBASE",
	"NODE_OPTIONS", "NODE_PATH",
	"PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB",
	"RUBYOPT", "RUBYLIB",
	"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
	"PHPRC", "PHP_INI_SCAN_DIR",
	"OPENSSL_CONF", "OPENSSL_ENGINES", "OPENSSL_MODULES",
}

// loaderPrefixes are families of such variables: the dynamic loaders,
// malloc tuning, git (GIT_SSH_COMMAND, GIT_CONFIG_*, GIT_EXEC_PATH), bash's
// exported functions, Lua's start-up code and paths, and hush's own
// (a nested hush must not find another store or key from the store).
var loaderPrefixes = []string{
	"LD_", "DYLD_", "MALLOC_", "GIT_", "BASH_FUNC_",
	"LUA_INIT", "LUA_PATH", "LUA_CPATH", "HUSH_",
}

// loaderSet is loaderVars as a set, made on first use: hush exec asks
// about every secret of the view, a thousand on a big store, and a scan
// of the list for each costs more than the set (issue 18).
var loaderSet = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool, len(loaderVars))
	for _, v := range loaderVars {
		m[v] = true
	}
	return m
})

// loaderVar reports whether name is one of loaderVars or starts with one
// of loaderPrefixes, compared without regard to case.
func loaderVar(name string) bool {
	u := strings.ToUpper(name)
	if loaderSet()[u] {
		return true
	}
	for _, p := range loaderPrefixes {
		// the first byte first: most names start like none of them
		if u != "" && u[0] == p[0] && strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// mapping is one secret to inject: the secret name and the variable it
// becomes. explicit is true when the user named the secret (--only,
// --secret), false when it comes from listing the view.
type mapping struct {
	name, target string
	explicit     bool
	flag         string // "--only" or "--secret" when explicit
}

// via says, for an error, what on the command line asked for m.
func (m mapping) via() string {
	switch m.flag {
	case "--secret":
		return "--secret " + printable(m.name) + ",target=" + m.target
	case "--only":
		return "--only " + printable(m.name)
	}
	return printable(m.name)
}

// parseSecretFlag parses one --secret value, NAME,target=ENV, in
// ToolHive's syntax. A missing NAME or target, an unknown or repeated key
// or a target that is not a valid variable name is a usage error.
func parseSecretFlag(s string) (mapping, error) { return parseMappingFlag("--secret", s) }

// parseMappingFlag parses s, NAME,target=ENV, given to flag (--secret or
// --file); see parseSecretFlag. Errors name the flag.
func parseMappingFlag(flag, s string) (mapping, error) {
	name, rest, _ := strings.Cut(s, ",")
	if name == "" {
		return mapping{}, usageErrorf("%s %q: the secret name is missing: want NAME,target=ENV", flag, s)
	}
	m := mapping{name: name, explicit: true, flag: flag}
	seen := false
	for rest != "" {
		var kv string
		kv, rest, _ = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case k != "target":
			return mapping{}, usageErrorf("%s %q: unknown key %q: want NAME,target=ENV", flag, s, k)
		case !ok || v == "":
			return mapping{}, usageErrorf("%s %q: target is empty: want NAME,target=ENV", flag, s)
		case seen:
			return mapping{}, usageErrorf("%s %q: target given twice", flag, s)
		}
		m.target, seen = v, true
	}
	if !seen {
		return mapping{}, usageErrorf("%s %q: want NAME,target=ENV", flag, s)
	}
	if !formats.ValidEnvName(m.target) {
		return mapping{}, withHint(usageErrorf("%s %q: %q is not a valid environment variable name", flag, s, m.target),
			"a variable name is a letter or _ followed by letters, digits and _")
	}
	return m, nil
}

// explicitMappings returns the mappings --secret and --only ask for
// (--only names take the prefix), in that order. Bad --secret values and
// two different secrets mapped to one variable are usage errors; nothing
// has been read from the store when it fails.
func explicitMappings(o execOptions) ([]mapping, error) {
	var ms []mapping
	for _, s := range o.Secrets {
		m, err := parseSecretFlag(s)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	for _, n := range o.Only {
		ms = append(ms, mapping{name: n, target: o.Prefix + n, explicit: true, flag: "--only"})
	}
	by := map[string]string{}
	out := ms[:0]
	for _, m := range ms {
		if prev, ok := by[m.target]; ok {
			if prev != m.name {
				return nil, usageErrorf("variable %s is asked for twice, from secrets %s and %s", m.target, prev, m.name)
			}
			continue
		}
		by[m.target] = m.name
		out = append(out, m)
	}
	return out, nil
}

// childEnv returns the child's environment: the inherited environment
// env (only pristineVars of it when pristine), without identityVars and
// without the variables set replaces, then set in the order of the
// names. set holds NAME=value strings, a later one replacing an earlier
// one of the same name. childEnv sorts set in place, and returns it
// grown into its spare capacity when there is room for the inherited
// variables in front: exec sizes it so, and one slice of the variables is
// made instead of two.
func childEnv(env []string, pristine bool, set []string) []string {
	set = sortVars(set)
	drop := func(k string) bool {
		_, ok := slices.BinarySearchFunc(set, k, func(kv, k string) int { return strings.Compare(varName(kv), k) })
		return ok || slices.Contains(identityVars, k)
	}
	kept := make([]string, 0, len(env))
	if pristine {
		for _, want := range pristineVars {
			if v, ok := lookupEnv(env, want); ok && !drop(want) {
				kept = append(kept, want+"="+v)
			}
		}
	} else {
		for _, kv := range env {
			if !drop(varName(kv)) {
				kept = append(kept, kv)
			}
		}
	}
	if n := len(set); cap(set)-n >= len(kept) {
		set = set[:n+len(kept)]
		copy(set[len(kept):], set[:n])
		copy(set, kept)
		return set
	}
	return append(kept, set...)
}

// sortVars sorts vars, NAME=value strings, by name, in place, and keeps
// the last of each name. vars in order, as exec's secrets come from a
// listing, are only checked.
func sortVars(vars []string) []string {
	byName := func(a, b string) int { return strings.Compare(varName(a), varName(b)) }
	if !slices.IsSortedFunc(vars, byName) {
		slices.SortStableFunc(vars, byName)
	}
	out := vars[:0]
	for i, kv := range vars {
		if i+1 < len(vars) && varName(vars[i+1]) == varName(kv) {
			continue // replaced by the next
		}
		out = append(out, kv)
	}
	return out
}

// appendVars appends the variables of m to vars as NAME=value strings,
// in no particular order.
func appendVars(vars []string, m map[string][]byte) []string {
	for k, v := range m {
		vars = append(vars, k+"="+string(v))
	}
	return vars
}

// varName returns the name of kv, a NAME=value string.
func varName(kv string) string {
	k, _, _ := strings.Cut(kv, "=")
	return k
}

// lookupEnv returns the value of the first key=value in env, as
// os.Getenv would, and whether there is one.
func lookupEnv(env []string, key string) (string, bool) {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// loaderWarning is the warning for a secret skipped by loaderVar. It names
// the variable and the secret, never the value.
func loaderWarning(m mapping) string {
	return fmt.Sprintf("exec: skipped %s: it changes how programs are loaded or shells start; name it with --only %s to set it",
		m.target, m.name)
}
