package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/store"
)

// This file resolves the references of hush exec: the variables of
// --env-file files, and inherited variables whose whole value is
// hush://NAME (formats.Reference), as op run does.

// envVar is one variable of an --env-file, or an inherited one holding a
// reference. via says where it came from, for errors ("--env-file
// app.env: " or "inherited ").
type envVar struct {
	name, via string
	value     []byte
}

// readEnvFiles reads and parses the --env-file files in order (a later
// file's variable replaces an earlier one's). Each is an input file:
// standard input for "-", else a regular file, at most maxImport bytes.
// Nothing is resolved yet.
func (a *app) readEnvFiles(paths []string) ([]envVar, error) {
	var out []envVar
	for _, path := range paths {
		data, err := a.readInput(path, maxImport)
		if err != nil {
			return nil, fmt.Errorf("exec: --env-file %s: %w", path, err)
		}
		secrets, err := formats.ParseDotenv(bytes.NewReader(data))
		clear(data)
		if err != nil {
			return nil, fmt.Errorf("exec: --env-file %s: %w", path, err)
		}
		for _, s := range secrets {
			out = append(out, envVar{name: s.Name, via: "--env-file " + path + ": ", value: s.Value})
		}
	}
	return out, nil
}

// inheritedReferences returns the variables of env (only pristineVars of
// it when pristine) whose whole value is a reference, without
// identityVars.
func inheritedReferences(env []string, pristine bool) []envVar {
	var out []envVar
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := formats.Reference(v); !ok || contains(identityVars, k) || pristine && !contains(pristineVars, k) {
			continue
		}
		out = append(out, envVar{name: k, via: "inherited ", value: []byte(v)})
	}
	return out
}

// resolveReferences returns the variables vs set, in order (a later one
// replaces an earlier one), with each value that is a reference replaced
// by the secret it names, read from p. A reference to a missing secret
// fails the whole call with an error wrapping store.ErrNotFound that names
// the variable and where it came from, never a value.
func resolveReferences(ctx context.Context, p store.Provider, vs []envVar) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, v := range vs {
		name, ok := formats.Reference(string(v.value))
		if !ok {
			out[v.name] = v.value
			continue
		}
		val, err := p.Get(ctx, name)
		if err != nil {
			return nil, secretFor(fmt.Sprintf("exec: %s%s=%s%s", v.via, printable(v.name), formats.ReferencePrefix, printable(name)), err)
		}
		out[v.name] = val
	}
	return out, nil
}

// secretFor rewords err, an error from reading one secret, to say what
// the user asked for (via: "exec: --only DB", say) rather than the
// library's operation: a *store.KeyError is replaced by its cause.
func secretFor(via string, err error) error {
	var ke *store.KeyError
	if errors.As(err, &ke) {
		err = ke.Err
	}
	return fmt.Errorf("%s: %w", via, err)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
