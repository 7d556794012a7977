#!/usr/bin/env bash
# Sets up the machine, builds and runs every test: once warnings-as-errors (build/), once under
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/). The README's second command and
# what CI (.ci/run) runs.
#   scripts/test.sh             everything
#   scripts/test.sh --quick     the warnings-as-errors build only
#   scripts/test.sh -L unit     pass ctest arguments (here: only the unit label)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
if [[ ${1:-} == --quick ]]; then quick=1; shift; fi

scripts/setup.sh
jobs=$(nproc)

scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWIND_WARNINGS_AS_ERRORS=ON
ctest --test-dir build --output-on-failure -j "$jobs" "$@"

if [[ $quick -eq 0 ]]; then
  scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DTWIND_WARNINGS_AS_ERRORS=ON \
    -DTWIND_SANITIZERS=address,undefined -DTWIND_BUILD_BENCHMARKS=OFF
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" "$@"
fi
