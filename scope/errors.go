package scope

import (
	"errors"
	"strings"
	"unicode"

	"github.com/hush-secrets/hush/store"
)

// fix removes this view's prefix from err, once: it must be applied only
// to errors that come straight from the inner Provider, since a caller's
// name may itself start like a stored key. It makes errors name the keys
// the caller used, as fs.Sub does for paths. A *store.KeyError at the top
// is rebuilt with the caller's name; any other error whose message shows
// the prefix is wrapped so that its message does not. errors.Is and
// errors.As still reach every error underneath.
func (s *ScopedView) fix(err error) error {
	if err == nil {
		return nil
	}
	if ke, ok := err.(*store.KeyError); ok {
		name, cut := strings.CutPrefix(ke.Name, s.prefix)
		inner := s.fix(ke.Err)
		if !cut && inner == ke.Err {
			return err
		}
		return &store.KeyError{Op: ke.Op, Name: name, Err: inner}
	}
	if strings.Contains(err.Error(), s.prefix) {
		return &unprefixed{err: err, prefix: s.prefix}
	}
	return err
}

// unprefixed hides a scope prefix in the message of an error it wraps.
type unprefixed struct {
	err    error
	prefix string
}

// Error removes the prefix from each key in the message once: after a
// removal the rest of that word (the caller's name, which may itself
// contain the prefix) is kept as it is.
func (e *unprefixed) Error() string {
	msg := e.err.Error()
	var b strings.Builder
	for {
		i := strings.Index(msg, e.prefix)
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		b.WriteString(msg[:i])
		msg = msg[i+len(e.prefix):]
		end := strings.IndexFunc(msg, unicode.IsSpace)
		if end < 0 {
			end = len(msg)
		}
		b.WriteString(msg[:end])
		msg = msg[end:]
	}
}
func (e *unprefixed) Unwrap() error { return e.err }

// As gives errors.As a *store.KeyError with the caller's name when one is
// wrapped deeper in the chain.
func (e *unprefixed) As(target any) bool {
	p, ok := target.(**store.KeyError)
	if !ok {
		return false
	}
	var ke *store.KeyError
	if !errors.As(e.err, &ke) {
		return false
	}
	*p = &store.KeyError{Op: ke.Op, Name: strings.TrimPrefix(ke.Name, e.prefix),
		Err: (&ScopedView{prefix: e.prefix}).fix(ke.Err)}
	return true
}
