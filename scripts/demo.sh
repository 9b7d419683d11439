#!/usr/bin/env bash
# make demo: build hush and run its main job on a throwaway store in a
# temporary HOME, printing each command and what it did. Touches nothing
# outside the temporary directory (and bin/hush).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
BIN=${BIN:-bin/hush}
mkdir -p "$(dirname "$BIN")"
echo "# building $BIN"
$GO build -o "$BIN" ./cmd/hush
BINDIR=$(cd "$(dirname "$BIN")" && pwd)
[ "$(basename "$BIN")" = hush ] || { echo "BIN must end in /hush" >&2; exit 2; }
export PATH="$BINDIR:$PATH"

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/hush-demo.XXXXXX")
trap 'rm -rf "$DEMO"' EXIT
export HOME=$DEMO/home
mkdir -m 700 "$HOME"
unset HUSH_STORE HUSH_IDENTITY HUSH_IDENTITY_FILE XDG_CONFIG_HOME XDG_DATA_HOME
cd "$DEMO"

step() { printf '\n$ %s\n' "$*"; }
run() { step "$@"; "$@"; }

echo "# a throwaway HOME: $HOME"
run hush init

step "printf '%s\n' 'postgres://app:s3cret@db/app' | hush set DATABASE_URL --description 'the app database'"
printf '%s\n' 'postgres://app:s3cret@db/app' | hush set DATABASE_URL --description 'the app database'
step "printf 'tok-123' | hush set API_TOKEN"
printf 'tok-123' | hush set API_TOKEN

run hush get DATABASE_URL
run hush ls
run hush ls --long
step "hush exec -- sh -c 'echo \"the child sees API_TOKEN=\$API_TOKEN\"'"
hush exec -- sh -c 'echo "the child sees API_TOKEN=$API_TOKEN"'
run hush export
run hush export --format shell

step "hush get NOPE   # a missing secret: exit 3, a message on stderr"
set +e
hush get NOPE
echo "exit status: $?"
set -e

run hush doctor

echo
echo "# the files hush made (0600 files, 0700 directories):"
find "$HOME" -printf '%M  %P\n' | sort -k2
echo
echo "# recovery needs nothing but age: the store is a plain age file"
if command -v age >/dev/null; then
  run age -d -i "$HOME/.config/hush/identity.txt" "$HOME/.local/share/hush/store.age"
  echo
else
  echo "#   age -d -i ~/.config/hush/identity.txt ~/.local/share/hush/store.age"
fi
echo
echo "demo ok: the temporary HOME is removed on exit"
