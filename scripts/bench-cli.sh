#!/usr/bin/env bash
# make bench-cli: hush's commands as whole processes against the age CLI
# doing the same job, alternating runs, medians and their ratios.
#
# First the line earlier figures compare with: `hush get` against `age -d`
# of a 1,000-entry store (names like SECRET_0500, 80-byte values), target
# <= 1.3x. Then the table of issue 21 (internal/benchcli, "table"): stores
# of 1,000, 10,000 and 100,000 entries (names like SECRET_000042, 32-byte
# values); get against age -d, set, rm, mv, import and migrate apply
# against a floor write (internal/benchcli/floorwrite: age -d | age -e,
# temporary file, fsync, rename, fsync of the directory); the peak RSS of
# get and set against 2x the plaintext + 16 MiB.
#
# Usage: scripts/bench-cli.sh [RUNS]
#   RUNS      runs of each command (default: 50 for the first line; in the
#             table 21, 11 and 5 at up to 2,000, 20,000 and more entries)
#   SIZES     entries per store in the table (default "1000 10000 100000";
#             ENTRIES is read when SIZES is not set)
#   ROWS      the rows of the table to time (default all: "get set rm mv
#             import migrate"); ROWS=get times the read path alone
#   CGO_ENABLED hush is built as `make build` builds it, without cgo
#             (static); CGO_ENABLED=1 measures a dynamically linked build,
#             which starts slower (docs/BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-${RUNS:-}}
SIZES=${SIZES:-${ENTRIES:-1000 10000 100000}}
GO=${GO:-go}
BIN=${BIN:-bin/hush}

mkdir -p "$(dirname "$BIN")"
CGO_ENABLED=${CGO_ENABLED:-0} $GO build -trimpath -o "$BIN" ./cmd/hush
HUSH=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hush-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

AGE=$(command -v age || true)
if [ -z "$AGE" ]; then
  echo "# installing the age CLI (v1.3.2) into $WORK/bin"
  GOBIN=$WORK/bin $GO install filippo.io/age/cmd/age@v1.3.2
  AGE=$WORK/bin/age
fi
$GO build -o "$WORK/benchcli" ./internal/benchcli
$GO build -o "$WORK/floorwrite" ./internal/benchcli/floorwrite

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load average $(cut -d' ' -f1-3 /proc/loadavg) before"
echo "# hush: $(file -b "$HUSH" 2>/dev/null | grep -o 'statically linked\|dynamically linked' || echo 'linking unknown')"
echo "# $($GO version), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with changes)'), age $("$AGE" --version)"

export HOME=$WORK/home
mkdir -m 700 "$HOME"
unset HUSH_STORE HUSH_IDENTITY HUSH_IDENTITY_FILE XDG_CONFIG_HOME XDG_DATA_HOME
STORE=$HOME/.local/share/hush/store.age
ID=$HOME/.config/hush/identity.txt
"$HUSH" -q init
for ((i = 0; i < 1000; i++)); do
  printf 'SECRET_%04d=%s\n' "$i" "value-$i-$(printf '%064d' "$i")"
done > "$WORK/seed.env"
"$HUSH" -q import "$WORK/seed.env"
echo "# store: 1000 entries, $(wc -c < "$STORE") bytes; ${RUNS:-50} runs of each, alternating"

# benchcli alternates the two commands (after a warm-up of each) and
# prints median wall-clock and CPU times and their ratios.
"$WORK/benchcli" "${RUNS:-50}" "hush get (whole process)" "$HUSH" get SECRET_0500 \
  -- "age -d (whole process)" "$AGE" -d -i "$ID" "$STORE"
echo "target: hush/age <= 1.30x"
echo

echo "# the table: sizes $SIZES; progress on stderr"
"$WORK/benchcli" table -hush "$HUSH" -age "$AGE" -floor "$WORK/floorwrite" \
  -work "$WORK/table" -sizes "$SIZES" ${RUNS:+-runs "$RUNS"} ${ROWS:+-rows "$ROWS"}
echo
echo "# targets: get <= 1.2x age -d; set, rm, mv <= 1.3x the floor write; import, migrate apply <= 1.5x; peak RSS <= 2x plaintext + 16 MiB"
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) after"

# Delivery (issue 18), on the 1,000-entry store: hush exec (every secret
# into the environment, then exec(2) of true) against hush get of one
# secret, target <= 1.3x; and what --file adds (a file on a memory file
# system, the watcher process started) over the same secret as a variable,
# target < 2 ms. The watcher runs on after the command exits, concurrently.
# (No "--" before true: benchcli splits its two commands at "--".)
echo
echo "# delivery: exec against get, and --file against --only"
"$WORK/benchcli" "${RUNS:-50}" "hush exec -- true" "$HUSH" exec true \
  -- "hush get SECRET_0500" "$HUSH" get SECRET_0500
echo "target: exec/get <= 1.30x"
"$WORK/benchcli" "${RUNS:-50}" "hush exec --file SECRET_0500 -- true" "$HUSH" exec --file SECRET_0500 true \
  -- "hush exec --only SECRET_0500 -- true" "$HUSH" exec --only SECRET_0500 true
echo "target: --file adds < 2 ms (the difference of the medians)"

# The agent (issue 19), on the 1,000-entry store re-encrypted to a second,
# passphrase-protected identity too: hush get with that identity, held by
# `hush agent start`, against hush get with the plain identity; target
# <= 1.5x. The passphrase is typed on a terminal that script(1) provides.
echo
if command -v script >/dev/null; then
  echo "# agent: a passphrase identity through the agent against a plain identity"
  PASS=bench-passphrase-$$
  export XDG_RUNTIME_DIR=$WORK/run
  mkdir -m 700 "$XDG_RUNTIME_DIR"
  (sleep 0.5; printf '%s\n' "$PASS"; sleep 0.5; printf '%s\n' "$PASS"; sleep 1) |
    script -qec "'$HUSH' -q keygen --passphrase -o '$WORK/pass-identity.age'" /dev/null >"$WORK/keygen.out"
  PUB=$(tr -d '\r' <"$WORK/keygen.out" | grep '^age1' | tail -1)
  "$HUSH" -q recipients add "$PUB"
  (sleep 0.5; printf '%s\n' "$PASS"; sleep 2) |
    script -qec "'$HUSH' -q -i '$WORK/pass-identity.age' agent start" /dev/null >/dev/null
  "$HUSH" agent status >/dev/null
  "$WORK/benchcli" "${RUNS:-50}" "hush get, passphrase identity, agent" "$HUSH" -i "$WORK/pass-identity.age" get SECRET_0500 \
    -- "hush get, plain identity" "$HUSH" -i "$ID" get SECRET_0500
  echo "target: agent/plain <= 1.50x"
  "$HUSH" agent stop >/dev/null
else
  echo "# agent: skipped (no script(1) to type the passphrase on a terminal)"
fi
