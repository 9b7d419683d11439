#!/usr/bin/env bash
# make vulncheck: govulncheck over the module. It uses the Go vulnerability
# database at vuln.go.dev when that answers; where it cannot be reached (an
# offline or closed network), it builds the same database locally from the
# golang.org/x/vulndb module, which the Go module proxy serves, and says so,
# with the date of that copy.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
GOVULNCHECK_VERSION=v1.9.0
# The copy of the vulnerability data used when vuln.go.dev is unreachable.
# Raise it from time to time: `go list -m -versions golang.org/x/vulndb`
# lists none (pseudo-versions only), so take the newest the proxy serves,
# e.g. `go list -m golang.org/x/vulndb@master`.
VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}

govulncheck() { $GO run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" "$@"; }

if curl -fsS -m 10 -o /dev/null https://vuln.go.dev/index/db.json 2>/dev/null; then
  echo "# govulncheck $GOVULNCHECK_VERSION against https://vuln.go.dev"
  govulncheck ./...
  exit
fi

cache=$($GO env GOCACHE)/hush-vulndb/$VULNDB_VERSION
if [ ! -f "$cache/index/db.json" ]; then
  echo "# vuln.go.dev is unreachable: building the database from golang.org/x/vulndb@$VULNDB_VERSION"
  src=$(cd / && $GO mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$src/data/osv" ] || { echo "vulncheck: no data/osv in golang.org/x/vulndb@$VULNDB_VERSION" >&2; exit 1; }
  rm -rf "$cache.tmp"
  (cd "$src" && GOFLAGS=-mod=mod $GO run ./cmd/indexdb -vulns "$src/data/osv" -out "$cache.tmp")
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi
echo "# govulncheck $GOVULNCHECK_VERSION against a local copy of golang.org/x/vulndb@$VULNDB_VERSION (vuln.go.dev unreachable)"
govulncheck -db "file://$cache" ./...
