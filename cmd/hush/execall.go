package main

import (
	"bytes"
	"context"
	"fmt"

	"github.com/hush-secrets/hush/store"
)

// execEnvAll returns the child's environment when every secret of the
// view is asked for (see execEnv): hush's own environment, or its minimum
// with --pristine, and a variable for each secret, in name order, skipping
// names that are not variable names (--strict: refusing them) and loader
// variables (see loaderVar), and values with a NUL byte (--strict:
// refusing them). On failure nothing has been started and the error
// names no value.
//
// The secrets are lent by the store (store.Each), where they lie in the
// decrypted document, and copied once: into one buffer, as the NAME=value
// strings the child receives, each name checked there. A first walk
// sizes that buffer. Memory a process touches for the first time costs a
// page fault per 4 KiB, 10-40 µs on the virtual machines measured (issue
// 18); a copy of every name and value before the variables were made (as
// store.All makes) cost more than exec's own work.
func (a *app) execEnvAll(ctx context.Context, p store.Provider, o execOptions) ([]string, error) {
	n, size := 0, 0
	err := store.Each(ctx, p, func(name, value []byte) error {
		n++
		size += len(o.Prefix) + len(name) + 1 + len(value)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var b varBuilder
	b.Grow(size)
	// room for the inherited variables too: see childEnv
	set := make([]string, 0, len(a.env)+n)
	var skipped, loaders []string
	// The second walk builds the variables: if the store changed since
	// the first, the buffer grows, and the strings made stay valid.
	err = store.Each(ctx, p, func(name, value []byte) error {
		start := b.Len()
		b.WriteString(o.Prefix)
		b.Write(name)
		target := b.String()[start:] // a name left in the buffer if skipped
		switch verdictOf(mapping{target: target}) {
		case notAName:
			if o.Strict {
				return withHint(fmt.Errorf("%w: %q is not a valid environment variable name", errRefused, target),
					"map it with --secret %s,target=VALID_NAME, or drop --strict to skip it", name)
			}
			skipped = append(skipped, fmt.Sprintf("%s: not a valid environment variable name", target))
			return nil
		case loaderName:
			loaders = append(loaders, loaderWarning(mapping{name: string(name), target: target}))
			return nil
		}
		if bytes.IndexByte(value, 0) >= 0 {
			if o.Strict {
				return fmt.Errorf("%w: %s", errRefused, secretValueError(string(name), "contains a NUL byte, which an environment variable cannot hold"))
			}
			skipped = append(skipped, fmt.Sprintf("%s: its value contains a NUL byte", name))
			return nil
		}
		b.WriteByte('=')
		b.Write(value)
		set = append(set, b.String()[start:])
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, s := range skipped {
		a.warnf("exec: skipped %s (--strict makes this an error)", s)
	}
	for _, s := range loaders {
		a.warnf("%s", s)
	}
	return childEnv(a.env, o.Pristine, set), nil
}
