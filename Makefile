# corsgate: two commands do everything on a fresh machine.
#   make run    build, start the demo backend and the gateway with config.example.json;
#               its ports: PORT (8080), ADMIN_PORT (9091), BACKEND_PORT (8000)
#   make fleet  etcd and three replicas of the example sharing run-time CORS changes;
#               its ports: FLEET_ETCD_PORT (2379), FLEET_ETCD_PEER_PORT (2380),
#               FLEET_BACKEND_PORT (8090), FLEET_GATEWAY_PORT (8081: 8081-8083),
#               FLEET_ADMIN_PORT (9101: 9101-9103), such as make fleet FLEET_BACKEND_PORT=8190
#   make test   install what the tests need, vet, unit tests (-race), e2e and browser tests,
#               and every fuzz target for 10000 inputs
# Evidence (see BENCHMARKS.md):
#   make bench       benchmarks against the peer CORS layers (bench/, about 5 minutes)
#   make load        wrk against the real binaries (about 4 minutes)
#   make load-runtime  wrk while the admin API applies 10 changes a second
#   make load-fleet  three replicas sharing etcd: convergence, and wrk with churn
#   make fleet-sim   REPLICAS (100) replicas in one process on one real etcd: convergence,
#                    etcd's idle and per-change load, resync after etcd restarts
#   make load-fleet-scale  the simulator at 100, 1000 and 3000 replicas and N (50) real
#                    corsgate processes on one etcd (about 15 minutes)
#   make fuzz        every fuzz target for FUZZTIME (30s) each, one at a time
# KrakenD:
#   make plugin      bin/corsgate.so, corsgate as a KrakenD http-server plugin
#   make check-plugin KRAKEND=path/to/krakend   the Go release and versions it must match
#                    (or GOMOD=path/to/krakend/go.mod GO_VERSION=1.25.12)
# Docs:
#   make docs        rewrite the outputs of the ```console examples in README.md
#                    and docs/*.md from real runs (make test checks them)
SHELL := /bin/bash
GO ?= go
BIN := bin
PORT ?= 8080
FUZZTIME ?= 30s
# benchstat, pinned: the version `go install ...@latest` resolved to.
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da
# staticcheck, pinned: the newest release that builds with this Go.
STATICCHECK_VERSION := v0.8.2
# package:FuzzName, run one at a time by make fuzz.
FUZZ_TARGETS := \
	./engine/origin:FuzzParsePattern \
	./engine/origin:FuzzMatch \
	./engine/origin:FuzzIsSerialized \
	./engine/policy:FuzzPreflightHeaders \
	./engine/policy:FuzzCompileJSON

.PHONY: all build run fleet fleet-sim load-fleet-scale plugin check-plugin deps-etcd test vet lint deps-lint unit unit-etcd e2e deps-browser bench deps-bench load deps-load fuzz fuzz-short check docs load-runtime load-fleet clean

all: build

build:
	$(GO) build -o $(BIN)/corsgate ./cmd/corsgate
	$(GO) build -o $(BIN)/demo-backend ./cmd/demo-backend

# run: the demo backend on 127.0.0.1:$(BACKEND_PORT) in the background
# (stopped when the gateway exits), the gateway in the foreground with its
# admin API on 127.0.0.1:$(ADMIN_PORT), behind a random password generated
# here and printed once. Ctrl-C stops both. With another BACKEND_PORT the
# gateway runs bin/run/config.json, the example with that port.
ADMIN_PORT ?= 9091
BACKEND_PORT ?= 8000
run: build
	@$(BIN)/corsgate check -c config.example.json
	@cfg=config.example.json; \
	if [ "$(BACKEND_PORT)" != 8000 ]; then \
		mkdir -p $(BIN)/run && sed 's/127\.0\.0\.1:8000/127.0.0.1:$(BACKEND_PORT)/g' config.example.json >$(BIN)/run/config.json && cfg=$(BIN)/run/config.json; \
	fi; \
	$(BIN)/demo-backend -listen 127.0.0.1:$(BACKEND_PORT) & backend=$$!; \
	trap 'kill $$backend 2>/dev/null' EXIT INT TERM; \
	sleep 0.3; \
	if ! kill -0 $$backend 2>/dev/null; then \
		echo "make run: the demo backend stopped at once (its message is above): is 127.0.0.1:$(BACKEND_PORT) in use? Pick another port: make run BACKEND_PORT=8001"; exit 1; \
	fi; \
	password=$$(head -c 18 /dev/urandom | base64 | tr -d '/+='); \
	echo "admin API: http://127.0.0.1:$(ADMIN_PORT)  user: admin  password: $$password"; \
	echo "  try: curl -u admin:$$password http://127.0.0.1:$(ADMIN_PORT)/_api/v2/user/config/cors"; \
	echo "   or: CORSGATE_ADMIN_PASSWORD=$$password $(BIN)/corsgate config get --admin http://127.0.0.1:$(ADMIN_PORT)"; \
	CORSGATE_ADMIN_USER=admin CORSGATE_ADMIN_PASSWORD=$$password \
	$(BIN)/corsgate run -c $$cfg -d -p $(PORT) --admin-listen 127.0.0.1:$(ADMIN_PORT) --replica-id make-run

# fleet: etcd, the demo backend and three replicas of the example gateway
# sharing run-time changes (scripts/fleet.sh, docs/runtime.md); prints how
# to try it. Each port is a variable (see the top of this file, or
# scripts/fleet.sh), checked to be free before anything starts; a process
# that stops is named with the end of its log; Ctrl-C stops them all.
fleet: build deps-etcd
	@BIN=$(BIN) ./scripts/fleet.sh

# plugin: corsgate as a KrakenD http-server plugin, bin/corsgate.so
# (docs/krakend.md). Build it with the Go version and module versions of
# the KrakenD it loads into: make check-plugin KRAKEND=path/to/krakend.
plugin:
	$(GO) build -buildmode=plugin -o $(BIN)/corsgate.so ./krakendplugin

check-plugin:
	@if [ -n "$(KRAKEND)" ]; then $(GO) run ./krakendplugin/checkplugin -krakend $(KRAKEND); \
	elif [ -n "$(GOMOD)" ]; then $(GO) run ./krakendplugin/checkplugin -gomod $(GOMOD) -go "$(GO_VERSION)"; \
	else echo "make check-plugin KRAKEND=path/to/krakend (the binary the plugin loads into), or GOMOD=path/to/krakend/go.mod GO_VERSION=1.25.12 (its go.mod and the Go release it was built with)"; exit 2; fi

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

# etcd for the tests of the etcd store and make fleet, from Debian's
# packages (etcd-server 3.4.23 on Debian 12), when it is missing. Installing
# starts no service: tests and make fleet start their own on loopback.
deps-etcd:
	@if command -v etcd >/dev/null 2>&1 || [ -n "$${ETCD_PATH:-}" ]; then \
		echo "etcd: $$(command -v etcd || echo $$ETCD_PATH)"; \
	else \
		echo "installing etcd (apt-get)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq etcd-server >/dev/null; \
		command -v etcd; \
	fi

# lint: staticcheck (its default checks) on both modules, installed at a
# pinned version when missing. It finds what go vet does not: dead code,
# misused standard library calls, simplifications.
lint: deps-lint
	$(STATICCHECK) ./...
	cd bench && $(STATICCHECK) ./...

STATICCHECK = $(shell gobin=$$($(GO) env GOBIN); echo $${gobin:-$$($(GO) env GOPATH)/bin})/staticcheck

deps-lint:
	@if [ -x "$(STATICCHECK)" ] && $(STATICCHECK) -version | grep -qF "($(STATICCHECK_VERSION:v%=%))"; then :; else \
		echo "installing staticcheck $(STATICCHECK_VERSION)"; \
		$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	fi

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	cd bench && $(GO) vet ./...

# unit: the unit tests with -race, then the allocation tests, which only
# build without -race (the race detector makes sync.Pool drop objects).
# None needs anything but Go: the tests that start a real etcd are
# unit-etcd's.
ETCD_PKGS := ./store/ ./internal/etcdtest/
unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v -e '/e2e$$' -e '/store$$' -e '/internal/etcdtest$$')
	$(GO) test -count=1 -run 'NoAllocations' ./plugin/ ./metrics/
	cd bench && $(GO) test -count=1 ./fleetstat/

# unit-etcd: the tests of the etcd store (the contract suite included)
# and of the etcd test server, against Debian's etcd.
unit-etcd: deps-etcd
	$(GO) test -race -count=1 $(ETCD_PKGS)

e2e: deps-browser deps-etcd
	$(GO) test -race -count=1 ./e2e/...

test: vet lint unit unit-etcd e2e fuzz-short

# bench: the peer comparison (bench/bench.sh); writes bench/results/ and
# BENCHMARKS.md. RUNS and BENCHTIME tune it.
bench: deps-bench
	cd bench && GO=$(GO) ./bench.sh

deps-bench:
	@gobin=$$($(GO) env GOBIN); gobin=$${gobin:-$$($(GO) env GOPATH)/bin}; \
	if command -v benchstat >/dev/null 2>&1 || [ -x "$$gobin/benchstat" ]; then :; else \
		echo "installing benchstat $(BENCHSTAT_VERSION)"; \
		$(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION); \
	fi

# load: wrk against corsgate run (CORS on and off) and a KrakenD CE-style
# gateway (bench/load.sh); adds the Load section of BENCHMARKS.md.
load: deps-load
	cd bench && GO=$(GO) ./load.sh

# load-runtime: wrk while the admin API applies 10 changes a second
# (bench/runtime.sh); writes bench/results/runtime.txt.
load-runtime: deps-load build
	cd bench && GO=$(GO) ./runtime.sh

# load-fleet: three replicas sharing etcd: convergence over 200 changes,
# and wrk against all three with 10 changes a second (bench/fleet.sh);
# writes bench/results/fleet.txt and its section of BENCHMARKS.md.
load-fleet: deps-load deps-etcd build
	cd bench && GO=$(GO) ./fleet.sh

# fleet-sim: the fleet simulator (bench/cmd/fleetsim): REPLICAS replicas
# of the store and follow code of corsgate run in one process, on one
# real etcd; its last line is the summary (BENCHMARKS.md, Fleet scale).
REPLICAS ?= 100
CHANGES ?= 20
fleet-sim: deps-etcd
	cd bench && $(GO) run ./cmd/fleetsim -replicas $(REPLICAS) -changes $(CHANGES)

# load-fleet-scale: the simulator at 100, 1,000 and 3,000 replicas, then N
# real corsgate run processes on one etcd (bench/fleetscale.sh, about 15
# minutes); writes bench/results/fleet-scale.txt and its section of
# BENCHMARKS.md.
N ?= 50
load-fleet-scale: deps-etcd
	cd bench && GO=$(GO) N=$(N) CHANGES=$(CHANGES) ./fleetscale.sh

deps-load:
	@if command -v wrk >/dev/null 2>&1; then :; else \
		echo "installing wrk (apt-get)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; \
	fi

# fuzz: each target for FUZZTIME, one at a time (go test -fuzz takes one
# target per run). New crashers land in the package's testdata/fuzz/.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz: $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

# fuzz-short counts inputs instead of seconds: with a duration, Go 1.26's
# fuzz coordinator can fail a run at the deadline with "context deadline
# exceeded" and no crasher when the machine is loaded (go.dev/issue/75804,
# fixed in Go 1.27). A count has no deadline to race.
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=10000x

# docs: run every documented command and write its real output into the
# docs (e2e/docs_test.go); review the diff before committing.
docs:
	CORSGATE_UPDATE_DOCS=1 $(GO) test -count=1 -run '^TestDocs$$' ./e2e/

clean:
	rm -rf $(BIN) bench.out
