// Package scope isolates the secrets of programs from the secrets of
// people that share one store, by decorating any [store.Provider].
//
// A program keeps its own credentials (OAuth and refresh tokens, registry
// logins) in a scope: [Scoped](p, "daemon") stores the name TOKEN as the
// key __hush_daemon_TOKEN, lists only its own keys with that prefix
// stripped, and cleans up only its own scope. Every key that starts with
// [Prefix] is reserved, and scope names are 1 to 32 characters of a-z and
// 0-9 (see [ValidateScope]), so [Split] can always tell which scope a
// stored key belongs to. An invalid scope is an error when the view is
// built, not at first use.
//
// People reach the same store through [User](p), which refuses to get,
// set or delete a reserved name (the error wraps [ErrReserved]), hides
// reserved keys from List, refuses a DeleteMany that names one (deleting
// nothing), and cleans up only the keys that are not reserved. So a user
// cannot see, read, overwrite or wipe a program's tokens, and a program's
// scope never sees a user's keys. [ReadOnly] wraps either view, or a raw
// store, and refuses every write with an error wrapping store.ErrReadOnly.
//
// All three are the one type [View], a Provider seen through a key
// mapping in the manner of [io/fs.Sub]; they compose in any order and
// each obeys the Provider contract: errors keep their meaning for
// errors.Is (store.ErrNotFound, store.ErrDecrypt, ...) and name the
// operation and the name the caller used. A view rebuilds the
// *store.KeyError a store returns with the caller's name, so a caller
// never sees a namespace it did not ask about. Batch operations
// (DeleteMany, Cleanup, Update) are one atomic change of the store
// underneath when it is a [store.Updater], as the file store is, and
// GetMany reads its names from one version of a store that offers
// [store.GetManyProvider], All every name it shows with its value from
// one read of a store that offers [store.AllProvider]; use
// [store.GetMany], [store.All], [store.DeleteMany] and [store.Cleanup] to
// reach them through a plain store.Provider.
//
// A program that needs both kinds of secret takes two providers, never
// one raw store: it resolves the names its users give (flags, config
// files, API requests) through User(p), and its own credentials through
// Scoped(p, its-scope). The Wiring example shows such a program.
//
// Keys written before a program used a scope can be moved into it by
// package migrate. Until that migration is recorded as done,
// [View.WithFallback] lets Get read a missing scoped key from its
// old, bare name, for the names the migration's rules would move and for
// no others; once it is done no bare key is ever read.
package scope
