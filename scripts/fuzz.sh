#!/usr/bin/env bash
# Fuzzes what twind reads from outside with libFuzzer (clang, AddressSanitizer +
# UndefinedBehaviorSanitizer): telemetry payloads, recording lines, commands on twin/{asset}/cmd
# (through the engine to a running twin), configuration files and the MQTT packets the native
# client reads from the broker. Each target starts from its seed
# corpus in fuzz/corpus/ (the configurations also from config/) and runs for SECONDS (default 60).
# Prints the executions and coverage of each; exits 1 on any finding, whose input is kept in
# build-fuzz/findings/ (make it a regression test).   scripts/fuzz.sh [SECONDS]
# FUZZ_SEED (default 1) makes a run repeat the same mutations, so CI is not red one day in ten;
# FUZZ_SEED=0 explores afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
scripts/setup.sh >/dev/null
build=build-fuzz
targets=(payload recording command config wire)
mkdir -p "$build/findings"
# The build's own output goes to a log; on failure its errors are printed, not swallowed.
build_log="$build/build.log"
if ! {
  if [[ ! -f $build/build.ninja ]]; then
    # Line tables only (-g1): a finding's stack keeps its files and lines (scripts/test.sh).
    CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
      -DTWIND_FUZZ=ON -DTWIND_BUILD_TESTS=OFF -DTWIND_BUILD_BENCHMARKS=OFF \
      -DTWIND_SANITIZERS=address,undefined,fuzzer-no-link
  fi
  cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"
} >"$build_log" 2>&1; then
  echo "fuzz: the clang build of the fuzz targets failed ($build_log):" >&2
  grep -E -A12 '^(FAILED|CMake Error)' "$build_log" | head -80 >&2 || tail -40 "$build_log" >&2
  exit 1
fi
failed=0
found=()
printf '| target | executions | coverage (edges) | features | corpus | result |\n|---|---:|---:|---:|---:|---|\n'
# fuzz_one T: target T for SECONDS from its corpus and seeds; its exit status into $build/T.status.
fuzz_one() {
  local t=$1 corpus="$build/corpus/$1" seeds rc=0
  mkdir -p "$corpus"
  seeds=(fuzz/corpus/"$t")
  [[ $t == config ]] && seeds+=(config)
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -seed="${FUZZ_SEED:-1}" \
    -print_final_stats=1 -artifact_prefix="$build/findings/$t-" "$corpus" "${seeds[@]}" \
    >"$build/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$build/$t.status"
}
# As many targets at once as there are cores (libFuzzer runs one process on one core): five
# targets of 60 s take 3 minutes on two cores instead of 5.
running=0
for t in "${targets[@]}"; do
  fuzz_one "$t" &
  running=$((running + 1))
  if ((running >= $(nproc))); then
    wait -n
    running=$((running - 1))
  fi
done
wait
for t in "${targets[@]}"; do
  log="$build/$t.log"
  status=ok
  if [[ $(cat "$build/$t.status" 2>/dev/null) != 0 ]]; then
    status="FINDING (see $log)"
    failed=1
    found+=("$t")
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  size=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${size:-?}" "$status"
done
# A finding's report and its input, where a CI log shows them (the build tree is gone after CI).
if ((failed)); then
  for t in "${found[@]}"; do
    log="$build/$t.log"
    echo
    echo "### $t: what the fuzzer reported ($log)"
    grep -E -A40 '^==[0-9]+==.*(ERROR|WARNING|libFuzzer)|runtime error|ALARM|out-of-memory' "$log" |
      head -60 || true
    grep -E '^(SUMMARY|MS: |Test unit written|Base64: )' "$log" | cut -c1-2000 || true
  done
fi
exit "$failed"
