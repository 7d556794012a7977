#!/usr/bin/env bash
# Sets up the machine, builds and runs every test: once warnings-as-errors (build/), once under
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/), and the unit and integration tests
# once more under ThreadSanitizer (build-tsan/). The README's second command and what CI
# (.ci/run) runs.
#   scripts/test.sh             everything: in build/ every test, the broker chaos run (label
#                               chaos, ~9 min), the 60 s soak (label soak), the container run
#                               (label container) and the NATS broker run (label cluster; not the
#                               replicas run, labelled quarantine too) last and one at a time,
#                               since they measure or are heavy; in build-asan/ every test but
#                               those four labels; in build-tsan/ the unit and integration tests
#   scripts/test.sh --quick     the warnings-as-errors build only, without the long runs
#   scripts/test.sh -L unit     pass ctest arguments (here: only the unit label), in every build
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
if [[ ${1:-} == --quick ]]; then quick=1; shift; fi

scripts/setup.sh
jobs=$(nproc)
# The long, measuring runs: kept out of the parallel runs and out of --quick. `container` builds
# the image and runs the compose file with podman (see the containers block below). A test also
# labelled `quarantine` is known to fail now and then for a reason not yet understood; it is not
# run here (`ctest -L quarantine` runs it), and tests/*/CMakeLists.txt says why at the test.
long='chaos|soak|container|cluster'

# ctest_in DIR [with-long]: the tests of DIR, or those given on the command line; PARALLEL
# (default: the cores) of them at once, but the long runs and those marked RUN_SERIAL alone.
ctest_in() {
  local parallel=${PARALLEL:-$jobs}
  if (($# > 2)); then
    ctest --test-dir "$1" --output-on-failure -j "$parallel" "${@:3}"
    return
  fi
  ctest --test-dir "$1" --output-on-failure -j "$parallel" -LE "$long"
  if [[ ${2:-} == with-long ]]; then
    ctest --test-dir "$1" --output-on-failure --no-tests=error -L "$long" -LE quarantine
  fi
}

# Line tables only (-g1) in every tree: file, line and function for a sanitizer report, a failed
# test's backtrace or gdb's stacks (tests/chaos), without the types and variables of -g, which
# cost up to a fifth of the compile time at -O2 (a test file: 14.2 s of CPU with -g, 11.2 s with
# -g1), less in the unoptimised ASan tree (src/ident/fit.cpp 59 s and 41 s, but other files 0-6 %
# less, one of five not at all).
release=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
scripts/build.sh build "${release[@]}" -DTWIND_WARNINGS_AS_ERRORS=ON
if [[ $quick -eq 1 ]]; then
  ctest_in build quick "$@"
  exit 0
fi

# --- Containers (label container, in the plain build only, run alone with the long runs) ---
# As root (a CI machine), install podman and make the base images, without any registry, so that
# scripts/container-test.sh can build docker/Dockerfile and run docker-compose.yml. Otherwise it
# runs if podman can start a container here, and reports itself skipped if not.
if [[ $# -eq 0 && $(id -u) -eq 0 ]]; then scripts/container-images.sh; fi
# --- end of containers ---

ctest_in build with-long "$@"

scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
  -DTWIND_WARNINGS_AS_ERRORS=ON \
  -DTWIND_SANITIZERS=address,undefined -DTWIND_BUILD_BENCHMARKS=OFF
# Twice as many tests at once as cores: many wait on a broker or a child process, and the cases
# that bound a wall-clock delay run alone (RUN_SERIAL) whatever -j says. Measured on 2 cores on
# 2026-12-04: 8 min 26 s and 8 min 43 s with -j4, 9 min 43 s with -j2, the same 1,672 tests passing.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  PARALLEL=$((2 * jobs)) ctest_in build-asan without-long "$@"

# --- ThreadSanitizer (build-tsan/): data races in the unit and integration tests -------------
# Its own tree, like the ASan one; RelWithDebInfo, whose reports still carry file and line
# (measured on 2 busy cores: 15 CPU-minutes to build, under 4 minutes for the tests).
# halt_on_error: a race fails its test. tests/tsan.supp lists reports inside Paho C++ itself.
# Tests labelled `timing` bound what the machine's delays do to a live twin (residuals of bare
# numbers, a wear alert after its onset); slowed five- to fifteen-fold by TSan, they would
# measure TSan. They run in the plain and ASan builds.
scripts/build.sh build-tsan "${release[@]}" -DTWIND_WARNINGS_AS_ERRORS=ON \
  -DTWIND_SANITIZERS=thread -DTWIND_BUILD_BENCHMARKS=OFF
tsan_args=(-L 'unit|integration' -LE "$long|timing")
if (($# > 0)); then tsan_args=("$@"); fi
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp" \
  ctest --test-dir build-tsan --output-on-failure -j "$jobs" "${tsan_args[@]}"
# --- end of the ThreadSanitizer block ---------------------------------------------------------
