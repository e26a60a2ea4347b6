# vmcrypt: the two commands (make demo, make test) and friends.
# Every target installs what it needs first (scripts/install-deps.sh, apt only).
SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test demo asan fuzz bench format clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

# Leaves the binary at build/vmcrypt.
build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Builds and runs every test through CTest (CI runs exactly this). Slow soak
# and long fuzz runs carry the label "slow" and are not run here.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

# The main job on embedded defaults.
demo: build
	@bash scripts/demo.sh $(BUILD)/vmcrypt

# All tests under AddressSanitizer + UBSan, in build-asan/.
asan: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVMCRYPT_SANITIZE=ON -DVMCRYPT_BENCH=OFF
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -LE "slow|fuzz"

# libFuzzer targets (clang), in build-fuzz/; runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DVMCRYPT_FUZZ=ON -DVMCRYPT_TESTS=OFF -DVMCRYPT_BENCH=OFF
	cmake --build build-fuzz -j $(JOBS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run_all.sh build-fuzz

bench: build
	bash bench/run_all.sh $(BUILD)

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-asan build-fuzz
