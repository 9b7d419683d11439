package main

import (
	"strings"

	"github.com/hush-secrets/hush/formats"
)

// checkFormat returns a usage error unless --format f is one of allowed.
func checkFormat(f string, allowed ...string) error {
	for _, a := range allowed {
		if f == a {
			return nil
		}
	}
	return usageErrorf("unknown format %q (want %s)", f, strings.Join(allowed, ", "))
}

// clearSecrets zeroes the values of secrets read or written in another
// format, once a command is done with them.
func clearSecrets(ss []formats.Secret) {
	for _, s := range ss {
		clear(s.Value)
	}
}
