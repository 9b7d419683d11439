package store

import "github.com/hush-secrets/hush/store/internal/atomicfile"

// SetFault installs a fault injector for the write path on opts: fault is
// called before each atomicfile step, and a non-nil return fails that
// step. It is the only seam the tests use; everything else is real.
func SetFault(opts *Options, fault atomicfile.Fault) { opts.fault = fault }
