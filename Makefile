# Makefile: a thin wrapper over CMake for the everyday commands.
#
#   make deps       install the Debian 12 packages (scripts/install-deps.sh)
#   make build      configure (RelWithDebInfo) and build into $(BUILD)
#   make run        build, then the demo: list plugins, check and run
#                   configs/demo.cfg (scripts/demo.sh)
#   make test       build and run every test, then again built with ASan and
#                   UBSan in $(ASAN_BUILD); fails if either run fails
#   make install    build and install into $(PREFIX)
#   make bench      build and run every benchmark program in $(BUILD)/bench
#   make style      the style check alone (scripts/check-style.sh)
#   make format     clang-format every project C file in place
#   make clean      remove $(BUILD) and $(ASAN_BUILD)
#
# Variables: BUILD=build ASAN_BUILD=build-asan PREFIX=/usr/local JOBS=$(nproc)
# CMAKE_ARGS (extra arguments for the configure step).

BUILD ?= build
ASAN_BUILD ?= build-asan
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE ?= cmake
CTEST ?= ctest
CMAKE_ARGS ?=

# What the sanitizer run sets: leaks are errors, UB stops the test with a trace.
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: all deps configure build run test test-asan install bench style format clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: configure
	$(CMAKE) --build $(BUILD) -j $(JOBS)

run: build
	scripts/demo.sh $(BUILD)

# Both suites run even when the first fails, so one run reports everything.
test: build
	@status=0; \
	$(CTEST) --test-dir $(BUILD) --output-on-failure -j $(JOBS) || status=1; \
	$(MAKE) --no-print-directory test-asan || status=1; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED (see above)"; fi; \
	exit $$status

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer. The
# style check is left out: it reads sources, not binaries, and ran above.
test-asan: deps
	$(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTACK_SANITIZE=ON $(CMAKE_ARGS)
	$(CMAKE) --build $(ASAN_BUILD) -j $(JOBS)
	$(SANITIZER_ENV) $(CTEST) --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -LE style

# Configured with the prefix too, so that the paths tack compiles in (its
# default plugin folder) are those of the install.
install: deps
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_INSTALL_PREFIX=$(abspath $(PREFIX)) $(CMAKE_ARGS)
	$(CMAKE) --build $(BUILD) -j $(JOBS)
	$(CMAKE) --install $(BUILD) --prefix $(abspath $(PREFIX))

# Every executable named bench_* that the build put in $(BUILD)/bench.
bench: build
	@set -e; found=0; \
	for b in $$(find $(BUILD)/bench -maxdepth 1 -type f -name 'bench_*' ! -name '*.so' -perm -u+x | sort); do \
	  found=1; echo "== $$b"; $$b; \
	done; \
	if [ $$found -eq 0 ]; then echo "make bench: no benchmark programs in $(BUILD)/bench"; fi

style:
	scripts/check-style.sh

format:
	scripts/c-sources.sh | xargs -r clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
