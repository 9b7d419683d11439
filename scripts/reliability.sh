#!/usr/bin/env bash
# Runs hush's reliability suite (docs/RELIABILITY.md): every part at its
# default size, or as the flags say (e.g. -run ioerr -io-errnos EIO; -list
# names the parts). strace, which the ioerr part needs for fault injection,
# is installed first if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
if ! command -v strace >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace || true
  fi
  command -v strace >/dev/null ||
    echo "*** reliability: strace is missing and could not be installed: the ioerr part's syscall faults will be SKIPPED" >&2
fi
exec "$GO" run ./internal/reliability "$@"
