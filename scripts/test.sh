#!/usr/bin/env bash
# Sets up the machine, builds and runs every test: once warnings-as-errors (build/), once under
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/). The README's second command and
# what CI (.ci/run) runs.
#   scripts/test.sh             everything: in build/ every test, the broker chaos run (label
#                               chaos, ~9 min) and the 60 s soak (label soak) last and one at a
#                               time, since they measure; in build-asan/ every test but those two
#   scripts/test.sh --quick     the warnings-as-errors build only, without chaos and soak
#   scripts/test.sh -L unit     pass ctest arguments (here: only the unit label), in both builds
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
if [[ ${1:-} == --quick ]]; then quick=1; shift; fi

scripts/setup.sh
jobs=$(nproc)
# The long, measuring runs: kept out of the parallel runs and out of --quick.
long='chaos|soak'

# ctest_in DIR [with-long]: the tests of DIR, or those given on the command line.
ctest_in() {
  if (($# > 2)); then
    ctest --test-dir "$1" --output-on-failure -j "$jobs" "${@:3}"
    return
  fi
  ctest --test-dir "$1" --output-on-failure -j "$jobs" -LE "$long"
  if [[ ${2:-} == with-long ]]; then
    ctest --test-dir "$1" --output-on-failure -L "$long"
  fi
}

scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWIND_WARNINGS_AS_ERRORS=ON
if [[ $quick -eq 1 ]]; then
  ctest_in build quick "$@"
  exit 0
fi
ctest_in build with-long "$@"

scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DTWIND_WARNINGS_AS_ERRORS=ON \
  -DTWIND_SANITIZERS=address,undefined -DTWIND_BUILD_BENCHMARKS=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest_in build-asan without-long "$@"
