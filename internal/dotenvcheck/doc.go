// Package dotenvcheck checks that the dotenv files hush exports are read
// back exactly by the parsers people feed them to: docker compose
// (compose-go), godotenv, npm dotenv, python-dotenv, systemd's
// EnvironmentFile= and `set -a; . FILE` in bash. It is a module of its own
// so that those parsers stay out of hush's go.mod; it has only tests.
//
// Run it with `go test ./...` in this directory (make test does). Go
// parsers come through go.mod; npm dotenv through package.json (`npm ci`
// here); python-dotenv, systemd and bash from the system (CI installs
// python3-dotenv). A parser that is missing is skipped with a message
// naming how to install it.
package dotenvcheck
