# Keyward: `make run` builds and starts the server; `make test` runs every test.
# Both install the Debian packages they need first (as root, or through sudo).

SHELL := /bin/bash
JOBS ?= $(shell nproc)

BUILD_PACKAGES := build-essential cmake ninja-build pkg-config ccache lld \
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
  libssl-dev libsodium-dev libsqlite3-dev libpq-dev libcli11-dev libfmt-dev zlib1g-dev \
  libcurl4-openssl-dev libyaml-cpp-dev \
  libgtest-dev libgmock-dev libbenchmark-dev
# `make package`: dpkg-shlibdeps (dpkg-dev) and file, which CPack's DEB generator runs.
PACKAGE_PACKAGES := dpkg-dev file
# clang builds the tsan preset (ThreadSanitizer and -Wthread-safety) and runs clang-tidy; git
# serves the tests of `keyward scan --git`; man-db, groff-base and zsh render and load the
# generated man pages and completion (tests/integration/generated_test.cc); caddy is the third
# gateway of docs/gateways.md (tests/integration/caddy_test.cc). The package test
# (deb_package_test) checks the .deb with lintian and its unit with systemd-analyze (systemd),
# and installs it (adduser).
TEST_PACKAGES := $(BUILD_PACKAGES) $(PACKAGE_PACKAGES) curl nginx-light caddy chromium postgresql \
  openssl sqlite3 git clang clang-tidy libclang-rt-14-dev man-db groff-base zsh lintian systemd \
  adduser

LISTEN ?= 127.0.0.1:8080
DATA_DIR ?= ./var

.PHONY: run test build deps test-deps format clean bench soak fuzz api-docs tidy package

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

# The Debian package, build/package/keyward_<version>_amd64.deb, of the release build: the
# binary, the systemd unit, /etc/keyward/keyward.conf, man pages, completions (docs/install.md;
# cmake/package.cmake says what goes where).
package: deps
	@scripts/install-packages $(PACKAGE_PACKAGES)
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target keyward_package_contents
	cd build/release && cpack

# Every test: the unit tests built with AddressSanitizer + UndefinedBehaviorSanitizer and the
# integration tests against a server built so, the concurrency tests again with ThreadSanitizer
# (clang, which also checks the lock annotations, -Wthread-safety), the browser, Node and
# package tests on the optimised build, and clang-tidy beside them; any sanitizer report or
# finding fails the run. scripts/test-all says how, tests/README.md what runs where.
test: test-deps
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	JOBS=$(JOBS) scripts/test-all

# clang-tidy (.clang-tidy) on every file, tests too, file by file (`make test` checks the code
# that ships, by unity file): needs build/tidy configured, not built.
tidy: test-deps
	cmake --preset tsan -B build/tidy -DKEYWARD_UNITY=OFF -DKEYWARD_SYSTEM_TESTS=ON >/dev/null
	JOBS=$(JOBS) scripts/clang-tidy build/tidy

# Not part of `test`: builds a release binary and benchmarks /auth against nginx (minutes; see
# bench/README.md). BENCH_SECONDS, BENCH_ROUNDS and the other BENCH_* variables pass through.
bench: deps
	bench/run.sh

# Not part of `test` (which runs both briefly): mixed load on one server for SOAK_SECONDS (an
# hour) with its resident memory, descriptors and cache sampled (SoakTest, prints the trend),
# then the crash durability test (SIGKILL while 64 clients create and delete keys, then a
# restart) for SOAK_ROUNDS rounds instead of 5 (minutes; prints each round).
SOAK_SECONDS ?= 3600
SOAK_ROUNDS ?= 50
soak: deps
	cmake --preset ci >/dev/null
	cmake --build --preset ci -j $(JOBS) --target keyward integration_test
	KEYWARD_SOAK_SECONDS=$(SOAK_SECONDS) build/ci/tests/integration/integration_test --gtest_filter='SoakTest.*'
	KEYWARD_CRASH_ROUNDS=$(SOAK_ROUNDS) build/ci/tests/integration/integration_test --gtest_filter='CrashDurabilityTest.*'

# Not part of `test` (which replays the seed corpora): builds the fuzz targets with clang and
# libFuzzer (+ASan, UBSan) in build/fuzz and runs each for FUZZ_SECONDS (default 60), printing
# executions and crashes per target (see fuzz/README.md). FUZZ_TARGETS picks a subset.
fuzz: deps
	@scripts/install-packages clang libclang-rt-14-dev
	FUZZ_SECONDS="$(FUZZ_SECONDS)" FUZZ_TARGETS="$(FUZZ_TARGETS)" JOBS="$(JOBS)" fuzz/run.sh

# Renders the reference part of docs/api.md from src/api/openapi.json (the API's OpenAPI
# document, also served at /api/v1/openapi.json). A unit test fails until this has been run
# after a change to the document.
api-docs: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target keyward_api_docs
	build/release/src/tools/keyward_api_docs src/api/openapi.json docs/api.md

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf build
