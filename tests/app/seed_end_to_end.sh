#!/usr/bin/env bash
# The bundled seed scenario through the executables: twin-sim regenerates the bundled recording
# byte for byte (so it cannot drift from the simulation core), and `twind replay` over it is
# deterministic and raises the divergence alert within 0.1 s of the wear at t0 + 3 s. Replay runs
# in event time, so the recording's timestamps are the clock here (the live daemon's wall-clock
# promise is tests/app/live_integration_test.cpp's). No run may print a sanitizer report.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/sanitizer.sh"
twind=$1 sim=$2 config=$3 bundled=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

scanned twin-sim "$tmp/sim.err" "$sim" --record "$tmp/seed.jsonl"
cmp "$tmp/seed.jsonl" "$bundled" || { echo "scenarios/seed.jsonl differs from twin-sim's output"; exit 1; }

scanned "twind replay -o" "$tmp/log1" "$twind" replay -c "$config" -i "$bundled" -o "$tmp/out1.jsonl"
scanned "twind replay" "$tmp/log2" "$twind" replay -c "$config" -i "$bundled" >"$tmp/out2.jsonl"
cmp "$tmp/out1.jsonl" "$tmp/out2.jsonl" || { echo "replay output differs between runs"; exit 1; }

alerts=$(grep -c '"topic":"twin/alert"' "$tmp/out1.jsonl" || true)
[[ $alerts -eq 1 ]] || { echo "expected 1 alert line, got $alerts"; exit 1; }
states=$(grep -c '"topic":"twin/state"' "$tmp/out1.jsonl" || true)
[[ $states -eq 16 ]] || { echo "expected 16 state lines, got $states"; exit 1; }
# The human line: [t=3.0Xs] with X in 1..9, i.e. within 0.1 s after the wear.
grep -Eq '\[t=3\.0[1-9]s\] ALERT: divergence = 0\.[0-9]+ > 0\.15 \(plant/y\)' "$tmp/log1" \
  || { echo "no alert line within 0.1 s of the wear in:"; cat "$tmp/log1"; exit 1; }
grep -q 'replay: 800 lines (0 bad), 800 messages' "$tmp/log1" || { cat "$tmp/log1"; exit 1; }
echo ok
