package main

import "github.com/hush-secrets/hush/store"

// checkNames validates names before the store is touched, so that an
// invalid name is a usage error (exit 2) and never "not found".
func checkNames(op string, names ...string) error {
	for _, n := range names {
		if err := store.ValidateName(n); err != nil {
			return &store.KeyError{Op: op, Name: n, Err: err}
		}
	}
	return nil
}
