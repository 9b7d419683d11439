//go:build !linux

package store

// plainBuffer returns a buffer of n bytes for a store's plaintext.
func plainBuffer(n int64) []byte { return make([]byte, n) }
