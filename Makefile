# The two set-up commands of the README:
#   make run   installs missing Debian packages (as root), builds Release, runs the default job
#   make test  the same set-up, then the whole test suite through ctest
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
ADAKIT := $(BUILD_DIR)/tools/adakit/adakit
OUT ?= out

.PHONY: all deps configure build run test clean

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

clean:
	rm -rf $(BUILD_DIR)
