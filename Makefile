# kktflow — the two set-up commands (README): `make demo` and `make test`.
# Each installs missing Debian packages first, so a fresh Debian 12 machine needs nothing else.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
RELEASE_DIR := build/release
DEBUG_DIR := build/debug
ASAN_DIR := build/asan-ubsan
NATIVE_DIR := build/release-native
KKTFLOW := $(RELEASE_DIR)/kktflow

.PHONY: deps fashion-mnist release debug asan native demo test test-all test-asan test-native format-check bench clean

deps:
	bash scripts/install-deps.sh

# Opt-in: Fashion-MNIST for data/configs/fashion_mnist.toml and bench/scale's real-data cells.
fashion-mnist:
	bash scripts/get-fashion-mnist.sh

release: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

debug: deps
	cmake --preset debug
	cmake --build --preset debug -j $(JOBS)

asan: deps
	cmake --preset asan-ubsan
	cmake --build --preset asan-ubsan -j $(JOBS)

native: deps
	cmake --preset release-native
	cmake --build --preset release-native -j $(JOBS)

demo: release
	mkdir -p runs
	$(KKTFLOW) run data/configs/frei2023.toml -o runs/frei2023.h5 --force
	$(KKTFLOW) verify runs/frei2023.h5

# Fast tests (everything not labelled `slow`) in the Debug build with assertions.
test: debug
	cd $(DEBUG_DIR) && ctest --output-on-failure -j $(JOBS) -LE slow

# Everything, including slow tests.
test-all: debug
	cd $(DEBUG_DIR) && ctest --output-on-failure -j $(JOBS)

# The fast tests once more under AddressSanitizer and UBSan.
test-asan: asan
	cd $(ASAN_DIR) && ctest --output-on-failure -j $(JOBS) -LE "slow|no-asan"

# The fast tests once more in an optimised build for this machine's vector units
# (-march=native): a verdict must not depend on the CPU or on how its code was generated, and a
# compiler defect that only native code generation meets shows up here.
test-native: native
	cd $(NATIVE_DIR) && ctest --output-on-failure -j $(JOBS) -LE slow

# The C++ sources as .clang-format lays them out (scripts/check-format.sh; --fix rewrites them).
format-check: deps
	bash scripts/check-format.sh

bench: release
	cmake --build --preset release --target bench

clean:
	rm -rf build runs
