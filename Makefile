# The two set-up commands of the README:
#   make run   installs missing Debian packages (as root), builds Release, runs the default job
#   make test  the same set-up, then the whole test suite through ctest
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
ADAKIT := $(BUILD_DIR)/tools/adakit/adakit
OUT ?= out

SAN_DIR ?= build-asan

.PHONY: all deps configure build run test test-sanitize fuzz fuzz-ci ci clean

all: build

deps:
	@bash scripts/setup.sh

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) $(GENERATOR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: deps $(BUILD_DIR)/CMakeCache.txt

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(ADAKIT) demo all --out $(OUT)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# The whole test suite built with AddressSanitizer + UndefinedBehaviorSanitizer (GCC), in $(SAN_DIR).
test-sanitize: deps
	cmake -S . -B $(SAN_DIR) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DADAKIT_SANITIZE=ON -DADAKIT_BUILD_BENCH=OFF
	cmake --build $(SAN_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(SAN_DIR) --output-on-failure -j $(JOBS)

# Every libFuzzer target for FUZZ_RUNS inputs (clang; build-fuzz/). See scripts/fuzz.sh.
FUZZ_RUNS ?= 100000
fuzz: deps
	bash scripts/fuzz.sh $(FUZZ_RUNS)

# CI's bounded fuzz stage: every target for a fixed FUZZ_CI_RUNS inputs from its committed seeds.
FUZZ_CI_RUNS ?= 20000
fuzz-ci: deps
	bash scripts/fuzz.sh $(FUZZ_CI_RUNS)

# What CI runs (.ci/run): the README's test command, then the sanitizer suite, then the bounded fuzz run.
ci: test
	$(MAKE) test-sanitize
	$(MAKE) fuzz-ci

clean:
	rm -rf $(BUILD_DIR) $(SAN_DIR) build-fuzz
