#!/bin/sh
# Builds stagecheck twice and runs every test in both builds:
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer, warnings as errors
#   build/       optimised release build, warnings as errors
# Installs missing Debian packages first (scripts/install-deps.sh).
# The output ends with ctest's summary of the release build.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

scripts/install-deps.sh

echo "== sanitizer build (ASan + UBSan)"
cmake -S . -B build-asan -DSC_WERROR=ON -DSC_SANITIZE=ON \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

echo "== release build"
cmake -S . -B build -DSC_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"
