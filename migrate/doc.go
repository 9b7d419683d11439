// Package migrate moves secrets between namespaces of one store without
// losing them.
//
// A [Migration] is an ordered list of [Rule] values, each moving bare names
// with a prefix into a scope (package scope): with the rule
// BEARER_TOKEN_=workloads, the user-level key BEARER_TOKEN_x becomes the
// program-owned key __hush_workloads_BEARER_TOKEN_x. [Migration.Plan] lists
// the moves; [Migration.Apply] makes them write-before-delete, reading each
// new key back before the old one is deleted and never overwriting a new
// key that already exists. A new key that already holds a different value
// is a clash: both keys are kept untouched and reported ([ErrClash],
// Report.Clashes), and the migration stays pending until a person keeps
// one of the two values and applies it again. Completion is recorded
// inside the store itself, under the reserved scope "migrate", so a second
// run writes nothing and a program can keep reading through
// [Migration.Fallback] (a scoped view that falls back to the bare names
// while the migration is pending) from before the first run until long
// after the last.
//
// Each step is idempotent and the one step that must not race (creating
// the new key only if it is absent) is one atomic store.Update, so a crash
// at any moment, or several processes applying the same migration at once,
// leave every secret readable and converge to the same state.
//
// Reading secrets from other formats (dotenv, JSON, ToolHive's file) and
// importing them into a store is the job of package
// [github.com/hush-secrets/hush/formats].
package migrate
