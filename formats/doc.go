// Package formats reads and writes the files secrets travel in between hush
// and other tools: dotenv files, flat JSON objects, POSIX shell
// assignments and the encrypted file of [ToolHive]. Readers return a list
// of [Secret] values in file order and writers take one; [Import] puts a
// list into a store.
//
// [ParseDotenv] reads one strict dialect: single quotes are literal,
// double quotes take a few escapes (\n, \t, \xHH for any byte), and
// nothing is ever expanded, so "$HOME" stays "$HOME". [WriteDotenv] writes
// each value in the encoding that the most of the readers people feed a
// .env file to read exactly (docker compose, godotenv, npm [dotenv],
// python-dotenv, systemd, bash), and ParseDotenv reads all of it back byte
// for byte. A value with a NUL byte or bytes that are not UTF-8, which
// none of those readers holds, is left out, and so is a secret whose
// name does not look like a variable (letters, digits, "_", "." and "-").
//
// [ParseJSON] reads one flat object of names to strings and refuses
// anything nested; [WriteJSON] writes one. A JSON string holds text only,
// so a value that is not valid UTF-8 is left out of the output.
//
// [WriteShell] writes "export NAME='value'" lines for a POSIX shell's eval.
// A shell variable cannot hold a NUL byte, and its name only letters,
// digits and "_", so such secrets are left out. There is no shell reader:
// running the file is the only faithful way to read it.
//
// [ParseToolHive] decrypts ToolHive's secrets file (both its original and
// its framed, Argon2id-keyed form) given its password, and maps ToolHive's
// reserved keys __thv_<scope>_<name> to hush's __hush_<scope>_<name>.
// Files are read, never written.
//
// A writer that leaves secrets out writes all the others and then returns
// a [*SkipError] naming them (errors.Is(err, [ErrSkipped])). A reader
// returns no secrets on malformed input, only a [*ParseError] giving the
// line where there is one; a ToolHive file that does not decrypt gives an
// error wrapping store.ErrDecrypt. Readers refuse input larger than the
// largest store (store.MaxStoreSize) with store.ErrLimit. No error of this
// package contains a secret value.
//
// [Import] writes a list into any store.Provider as one all-or-nothing
// change, and refuses to replace an existing secret with a different value
// ([ErrClash]) unless the [ImportMode] says to overwrite or skip it.
//
// [ToolHive]: https://github.com/stacklok/toolhive
// [dotenv]: https://github.com/motdotla/dotenv
package formats
