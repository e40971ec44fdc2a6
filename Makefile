# corsgate: two commands do everything on a fresh machine.
#   make run    build, start the demo backend and the gateway with config.example.json
#   make test   install what the tests need, vet, unit tests (-race), e2e and browser tests
SHELL := /bin/bash
GO ?= go
BIN := bin
PORT ?= 8080
FUZZTIME ?= 3s

.PHONY: all build run test vet unit e2e deps-browser bench check clean

all: build

build:
	$(GO) build -o $(BIN)/corsgate ./cmd/corsgate
	$(GO) build -o $(BIN)/demo-backend ./cmd/demo-backend

# run: the demo backend in the background (stopped when the gateway exits),
# the gateway in the foreground. Ctrl-C stops both.
run: build
	@$(BIN)/corsgate check -c config.example.json
	@$(BIN)/demo-backend -listen 127.0.0.1:8000 & backend=$$!; \
	trap 'kill $$backend 2>/dev/null' EXIT INT TERM; \
	$(BIN)/corsgate run -c config.example.json -d -p $(PORT)

check: build
	$(BIN)/corsgate check -c config.example.json

# Chromium for the browser tests, from Debian's packages, when it is missing.
deps-browser:
	@if command -v chromium >/dev/null 2>&1 || [ -n "$${CHROMIUM_PATH:-}" ]; then \
		echo "chromium: $$(command -v chromium || echo $$CHROMIUM_PATH)"; \
	else \
		echo "installing chromium (apt-get)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
		command -v chromium; \
	fi

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./plugin/... ./schema/... ./cmd/...

e2e: deps-browser
	$(GO) test -race -count=1 ./e2e/...

test: vet unit e2e

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./plugin/ | tee bench.out

clean:
	rm -rf $(BIN) bench.out
