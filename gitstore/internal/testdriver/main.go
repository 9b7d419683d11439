// Command testdriver stands in for the hush command in gitstore's tests,
// which build it (without the race detector, so that git's many driver
// calls start quickly) and put it on PATH as "hush". It does what `hush
// git textconv [--show-values] FILE` and `hush git merge O A B P` do,
// minus the CLI: identities from HUSH_IDENTITY_FILE and the other usual
// places, messages to stderr, exit 1 on a conflict and 5 when a version
// cannot be decrypted.
package main

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"filippo.io/age"

	"github.com/hush-secrets/hush/gitstore"
	"github.com/hush-secrets/hush/locate"
	"github.com/hush-secrets/hush/store"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	var ids []age.Identity
	o := locate.Options{AllowInsecurePermissions: os.Getenv("HUSH_ALLOW_INSECURE_PERMS") == "1"}
	if found, err := locate.Identities(o); err == nil {
		ids = found.Identities
	}
	switch {
	case len(args) >= 3 && args[0] == "git" && args[1] == "textconv":
		data, err := os.ReadFile(args[len(args)-1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "hush:", err)
			return 1
		}
		show := slices.Contains(args, "--show-values")
		err = gitstore.Textconv(os.Stdout, data, gitstore.TextconvOptions{Identities: ids, ShowValues: show})
		if err != nil && !errors.Is(err, store.ErrDecrypt) {
			fmt.Fprintln(os.Stderr, "hush:", err)
			return 1
		}
		return 0
	case len(args) == 6 && args[0] == "git" && args[1] == "merge":
		_, err := gitstore.MergeFiles(args[2], args[3], args[4], gitstore.MergeFilesOptions{Identities: ids, Path: args[5]})
		var ce *gitstore.ConflictError
		if errors.As(err, &ce) {
			fmt.Fprintln(os.Stderr, "hush:", ce)
			return 1
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "hush:", err)
			return 5
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "testdriver: bad arguments", args)
	return 2
}
