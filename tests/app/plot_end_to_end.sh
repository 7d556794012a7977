#!/usr/bin/env bash
# plot_end_to_end.sh TWIND TWIN_SIM CONFIG_DIR SEED_RECORDING CHECK_SVG: `twind replay --trace`
# and `twind plot` through the executables. Trace lines leave replay's messages byte-identical and
# are the same run to run; plot draws the seed scenario with and without them, a fleet (picking the
# asset with the alert, or the one asked for), the rotating machine (two inputs, the output that
# alerts) and ten minutes at 50 Hz, each as an SVG that check_svg.py accepts (well-formed,
# self-contained, three panels, finite geometry, and small). No run may print a sanitizer report.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/sanitizer.sh"
twind=$1 sim=$2 cfg=$3 seed=$4 check=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
# plot NAME ARGS...: twind plot, its log in $tmp/NAME.log.
plot() {
  local name=$1
  shift
  scanned "twind plot ($name)" "$tmp/$name.log" "$twind" plot "$@" ||
    fail "twind plot $* exited $?: $(cat "$tmp/$name.log")"
}

# Trace lines: the messages unchanged, deterministic.
scanned "twind replay" "$tmp/r1.log" "$twind" replay -c "$cfg/twind.yaml" -i "$seed" -o "$tmp/plain.jsonl"
scanned "twind replay --trace" "$tmp/r2.log" "$twind" replay -c "$cfg/twind.yaml" -i "$seed" --trace -o "$tmp/trace.jsonl"
scanned "twind replay --trace" "$tmp/r3.log" "$twind" replay -c "$cfg/twind.yaml" -i "$seed" --trace -o "$tmp/trace2.jsonl"
cmp "$tmp/trace.jsonl" "$tmp/trace2.jsonl" || fail "replay --trace differs between runs"
grep -v '^{"trace":{' "$tmp/trace.jsonl" | cmp - "$tmp/plain.jsonl" ||
  fail "the messages of replay --trace differ from replay's"
traces=$(grep -c '^{"trace":{' "$tmp/trace.jsonl")
[[ $traces -eq 800 ]] || fail "expected 800 trace lines (one per value), got $traces"

# The seed scenario, at every sample and at the ticks.
plot seed -i "$tmp/trace.jsonl" -o "$tmp/seed.svg"
grep -q 'plot: asset plant (the only asset), output y (the signal of the first divergence alert), 800 trace lines' "$tmp/seed.log" ||
  fail "unexpected log: $(cat "$tmp/seed.log")"
python3 "$check" "$tmp/seed.svg" --max-bytes 40000
plot ticks -i "$tmp/plain.jsonl" -o "$tmp/ticks.svg"
grep -q '16 states (no trace lines)' "$tmp/ticks.log" || fail "unexpected log: $(cat "$tmp/ticks.log")"
python3 "$check" "$tmp/ticks.svg" --max-bytes 40000
# To standard output without -o: the same bytes.
scanned "twind plot" "$tmp/stdout.log" "$twind" plot -i "$tmp/trace.jsonl" >"$tmp/stdout.svg"
cmp "$tmp/seed.svg" "$tmp/stdout.svg" || fail "plot's standard output differs from its -o file"

# A fleet of two: p2 healthy first in the file, p1 worn at 3 s.
scanned twin-sim "$tmp/s1.log" "$sim" --record "$tmp/p1.jsonl" --frame-topic plant/p1/frame
scanned twin-sim "$tmp/s2.log" "$sim" --record "$tmp/p2.jsonl" --frame-topic plant/p2/frame --wear-at -1
paste -d '\n' "$tmp/p2.jsonl" "$tmp/p1.jsonl" >"$tmp/fleet.jsonl"
scanned "twind replay fleet" "$tmp/r4.log" "$twind" replay -c "$cfg/fleet.yaml" -i "$tmp/fleet.jsonl" --trace -o "$tmp/fleet-out.jsonl"
plot fleet -i "$tmp/fleet-out.jsonl" -o "$tmp/fleet.svg"
grep -q 'asset p1 (the first of 2 assets with an alert)' "$tmp/fleet.log" ||
  fail "unexpected log: $(cat "$tmp/fleet.log")"
python3 "$check" "$tmp/fleet.svg" --max-bytes 40000
grep -q 'data-alert="divergence" data-signal="y"' "$tmp/fleet.svg" || fail "p1's alert is not drawn"
plot fleet-p2 -i "$tmp/fleet-out.jsonl" -o "$tmp/p2.svg" --asset p2
python3 "$check" "$tmp/p2.svg" --max-bytes 40000
if grep -q 'data-alert=' "$tmp/p2.svg"; then fail "the healthy p2 has an alert drawn"; fi
rc=0
"$twind" plot -i "$tmp/fleet-out.jsonl" -o "$tmp/none.svg" --asset p9 2>"$tmp/p9.log" || rc=$?
[[ $rc -eq 2 ]] || fail "--asset p9: exit $rc, expected 2"
grep -q 'no asset p9 (assets: p2, p1)' "$tmp/p9.log" || fail "unexpected log: $(cat "$tmp/p9.log")"

# The rotating machine: two inputs, three outputs; friction shows in rpm.
scanned twin-sim "$tmp/s3.log" "$sim" --plant machine --wear friction --wear-at 5 --duration 30 --record "$tmp/machine.jsonl"
scanned "twind replay machine" "$tmp/r5.log" "$twind" replay -c "$cfg/machine.yaml" -i "$tmp/machine.jsonl" --trace -o "$tmp/machine-out.jsonl"
plot machine -i "$tmp/machine-out.jsonl" -o "$tmp/machine.svg" --unit rpm=rpm --unit speed_command=rpm
grep -q 'output rpm (the signal of the first divergence alert)' "$tmp/machine.log" ||
  fail "unexpected log: $(cat "$tmp/machine.log")"
python3 "$check" "$tmp/machine.svg" --max-bytes 60000
grep -q '>speed_command (rpm)</text>' "$tmp/machine.svg" || fail "no axis for speed_command"
grep -q '>load</text>' "$tmp/machine.svg" || fail "no axis for load"

# Ten minutes at 50 Hz with noise: 30,000 samples a signal, thinned per pixel column.
scanned twin-sim "$tmp/s4.log" "$sim" --record "$tmp/long.jsonl" --duration 600 --wear-at 400 --noise 0.01
scanned "twind replay long" "$tmp/r6.log" "$twind" replay -c "$cfg/twind.yaml" -i "$tmp/long.jsonl" --trace -o "$tmp/long-out.jsonl"
plot long -i "$tmp/long-out.jsonl" -o "$tmp/long.svg"
python3 "$check" "$tmp/long.svg" --max-bytes 130000
echo ok
