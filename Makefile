# Thin wrapper over the go tool; CI runs `make test` (see README).
GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 10s
BIN      ?= bin/hush

STATICCHECK_VERSION ?= v0.8.2

.PHONY: build test bench bench-cli fuzz lint vulncheck demo reliability clean

# Static, without cgo: nothing in hush needs it, and a dynamically linked
# binary spends about 8 ms per process in the loader (docs/BENCHMARKS.md).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/hush

# The second module runs real dotenv parsers on hush's dotenv export
# (internal/dotenvcheck: its own go.mod keeps them out of hush's).
test:
	$(GO) vet $(PKGS)
	$(GO) test -race $(PKGS)
	cd internal/dotenvcheck && $(GO) vet ./... && $(GO) test ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Short run of every fuzzer in the module.
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
	  done; \
	done

# go vet and staticcheck, both clean. `go run pkg@version` fetches
# staticcheck through the module proxy without touching go.mod.
lint:
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

# govulncheck over the module (offline-capable; see the script).
vulncheck:
	GO=$(GO) bash scripts/vulncheck.sh

# Build hush and run its main job on a throwaway store in a temporary HOME.
demo:
	GO=$(GO) BIN=$(BIN) bash scripts/demo.sh

# `hush get` as a whole process against `age -d` of the same 1,000-entry
# store (docs/BENCHMARKS.md, "CLI").
bench-cli:
	GO=$(GO) BIN=$(BIN) bash scripts/bench-cli.sh $(RUNS)

# The reliability suite (internal/reliability) at full size (long); one
# part: make reliability RELIABILITY_FLAGS="-run ioerr". See docs/RELIABILITY.md.
reliability:
	GO=$(GO) bash scripts/reliability.sh $(RELIABILITY_FLAGS)

clean:
	rm -rf bin
