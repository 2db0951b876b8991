# Keyward: `make run` builds and starts the server; `make test` runs every test.
# Both install the Debian packages they need first (as root, or through sudo).

SHELL := /bin/bash
JOBS ?= $(shell nproc)

BUILD_PACKAGES := build-essential cmake ninja-build pkg-config \
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
  libssl-dev libsodium-dev libsqlite3-dev libpq-dev libcli11-dev libfmt-dev zlib1g-dev \
  libcurl4-openssl-dev libyaml-cpp-dev \
  libgtest-dev libgmock-dev libbenchmark-dev
TEST_PACKAGES := $(BUILD_PACKAGES) curl nginx-light chromium postgresql

LISTEN ?= 127.0.0.1:8080
DATA_DIR ?= ./var

.PHONY: run test build deps test-deps format clean bench

deps:
	@scripts/install-packages $(BUILD_PACKAGES)

test-deps:
	@scripts/install-packages $(TEST_PACKAGES)

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target keyward

run: build
	@echo "Starting Keyward on http://$(LISTEN) with SQLite in $(DATA_DIR)."
	@echo "On the first start it prints the admin password; on later starts sign in with the"
	@echo "password printed then (or start fresh: rm -rf $(DATA_DIR))."
	./build/release/src/keyward serve --listen $(LISTEN) --data-dir $(DATA_DIR)

test: test-deps
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	cmake --preset ci >/dev/null
	cmake --build --preset ci -j $(JOBS)
	scripts/with-postgres ctest --preset ci -j $(JOBS)

# Not part of `test`: builds a release binary and benchmarks /auth against nginx (minutes; see
# bench/README.md). BENCH_SECONDS, BENCH_ROUNDS and the other BENCH_* variables pass through.
bench: deps
	bench/run.sh

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf build
