#!/usr/bin/env bash
# make bench-cli: `hush get` as a whole process against `age -d` of the
# same 1,000-entry store, alternating runs, medians and their ratio.
# Usage: scripts/bench-cli.sh [RUNS] (default 50 of each). Target: <= 1.3x.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-${RUNS:-50}}
ENTRIES=${ENTRIES:-1000}
GO=${GO:-go}
BIN=${BIN:-bin/hush}

mkdir -p "$(dirname "$BIN")"
$GO build -trimpath -o "$BIN" ./cmd/hush
HUSH=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hush-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

AGE=$(command -v age || true)
if [ -z "$AGE" ]; then
  echo "# installing the age CLI (v1.3.2) into $WORK/bin"
  GOBIN=$WORK/bin $GO install filippo.io/age/cmd/age@v1.3.2
  AGE=$WORK/bin/age
fi

export HOME=$WORK/home
mkdir -m 700 "$HOME"
unset HUSH_STORE HUSH_IDENTITY HUSH_IDENTITY_FILE XDG_CONFIG_HOME XDG_DATA_HOME
STORE=$HOME/.local/share/hush/store.age
ID=$HOME/.config/hush/identity.txt
"$HUSH" -q init
for ((i = 0; i < ENTRIES; i++)); do
  printf 'SECRET_%04d=%s\n' "$i" "value-$i-$(printf '%064d' "$i")"
done > "$WORK/seed.env"
"$HUSH" -q import "$WORK/seed.env"
echo "# store: $ENTRIES entries, $(wc -c < "$STORE") bytes; $RUNS runs of each, alternating"

# benchcli alternates the two commands (after a warm-up of each) and
# prints median wall-clock and CPU times and their ratios.
$GO build -o "$WORK/benchcli" ./internal/benchcli
"$WORK/benchcli" "$RUNS" "hush get (whole process)" "$HUSH" get SECRET_0500 \
  -- "age -d (whole process)" "$AGE" -d -i "$ID" "$STORE"
echo "target: hush/age <= 1.30x"
