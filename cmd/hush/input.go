package main

import (
	"errors"
	"os"

	"github.com/hush-secrets/hush/internal/inputfile"
	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/store"
)

// Limits of the files hush reads. An input past its limit is refused with
// an error wrapping store.ErrLimit, never cut short.
var (
	// maxImport bounds an import (dotenv, JSON, ToolHive) and a store
	// handed over by git: no more than a whole store. A variable so that a
	// test can lower it.
	maxImport int64 = store.MaxStoreSize
	// maxKeyFile bounds a recipients file, as locate bounds an identity.
	maxKeyFile int64 = locate.MaxIdentityFileSize
)

// readInput reads the input name with at most limit bytes: standard input
// for "-" or for a path that is standard input (/dev/stdin, which git's
// users pipe to textconv), else a regular file (inputfile.ReadFile: a
// named pipe, a device or a directory is refused unread, exit 4).
func (a *app) readInput(name string, limit int64) ([]byte, error) {
	if name == "-" {
		return inputfile.Read(a.stdin, "standard input", limit)
	}
	data, err := inputfile.ReadFile(name, limit)
	if errors.Is(err, inputfile.ErrNotRegular) && a.isStdin(name) {
		return inputfile.Read(a.stdin, name, limit)
	}
	return data, err
}

// isStdin reports whether the file at name is the process's standard
// input.
func (a *app) isStdin(name string) bool {
	f, ok := a.stdin.(*os.File)
	if !ok {
		return false
	}
	in, err := f.Stat()
	if err != nil {
		return false
	}
	fi, err := os.Stat(name)
	return err == nil && os.SameFile(in, fi)
}
