// Package gitstore lets a hush store be shared in git: a textconv diff
// driver that shows names and never values, and a key-level three-way
// merge driver.
//
// A store encrypted to a team's recipients is one opaque file to git, so
// every concurrent edit would be a binary conflict. [Textconv] renders a
// store as sorted lines ("recipient R", "secret NAME fp:F"), so git diff
// and git log -p show which names were added, removed or changed and which
// recipients came and went. A value shows only as a keyed fingerprint (see
// [FingerprintKeyName]) that means nothing without the store.
//
// [MergeFiles] is the merge driver: it decrypts the base, ours and theirs
// versions and merges them by name with [Merge]: one-sided changes are
// taken, names changed incompatibly on both sides are conflicts, and
// recipients merge as sets. The result is re-encrypted to the merged
// recipients. On conflict the file is still a valid store, and the error
// names the keys, never the values.
//
// [Setup] writes the git config and .gitattributes that install both
// drivers. The package depends only on package store; the hush command
// (hush git setup, hush git textconv, hush git merge) wires it.
package gitstore
