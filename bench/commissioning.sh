#!/usr/bin/env bash
# commissioning.sh: what `twind fit` costs and what its calibration buys, on the seed plant
# (G(s) = 1/(s+1) under its PI loop, 20 ms sampling, noise sigma 0.01 on y). Prints:
#   1. the time to fit one asset on one hour of 20 ms data (wall and CPU seconds, peak RSS),
#      and to replay that hour through the fitted twin, REPEAT times;
#   2. false alarms of the twin calibrated by `twind fit --calibrate` (1 false alarm a year)
#      from ten minutes of healthy data, over HOURS hours of other healthy data, replayed;
#   3. for each small fault (at 60 s of a 120 s run; the drift over 600 s), the calibrated twin's
#      detection delay, and whether the 0.15 threshold of the true model sees it at all.
# Environment: BUILD (default build), HOURS (default 100), REPEAT (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
hours=${HOURS:-100}
repeat=${REPEAT:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sim=$build/twin-sim
twind=$build/twind

# The configuration a user starts from: the seed's, with a wrong guess of the model.
sed 's/A: \[\[-1\]\]/A: [[-0.4]]/; s/B: \[\[1\]\]/B: [[0.5]]/' config/twind.yaml >"$tmp/guess.yaml"
grep -q 'A: \[\[-0.4\]\]' "$tmp/guess.yaml"

echo "== 1. twind fit on one hour of 20 ms data (180,000 samples of u and of y)"
"$sim" --record "$tmp/hour.jsonl" --duration 3600 --wear-at -1 --noise 0.01 --seed 3 2>/dev/null
for ((i = 1; i <= repeat; i++)); do
  /usr/bin/time -f "run $i: %e s wall, %U s user, %M KiB peak RSS" \
    "$twind" fit -c "$tmp/guess.yaml" -i "$tmp/hour.jsonl" -o "$tmp/fit.yaml" 2>&1 |
    grep -E '^run |A\[0\]\[0\]|B\[0\]\[0\]'
  # The same hour replayed through the fitted twin, for scale.
  /usr/bin/time -f "replay $i: %e s wall, %U s user, %M KiB peak RSS" \
    "$twind" replay -c "$tmp/fit.yaml" -i "$tmp/hour.jsonl" -o /dev/null 2>&1 | grep -E '^replay '
done

echo "== 2. calibrated from ten minutes, then $hours h of healthy replay"
"$sim" --record "$tmp/ten.jsonl" --duration 600 --wear-at -1 --noise 0.01 --seed 4 2>/dev/null
"$twind" fit -c "$tmp/guess.yaml" -i "$tmp/ten.jsonl" --calibrate -o "$tmp/cal.yaml" 2>&1 |
  grep -E 'detection'
start=$(date +%s.%N)
alerts=$("$sim" --record - --duration $((hours * 3600)) --wear-at -1 --noise 0.01 --seed 5 2>/dev/null |
  "$twind" replay -c "$tmp/cal.yaml" -i /dev/stdin 2>/dev/null | grep -c '"topic":"twin/alert"' || true)
end=$(date +%s.%N)
printf 'false alarms in %s h (%s samples): %s (alert transitions), replayed in %.0f s\n' \
  "$hours" "$((hours * 180000))" "$alerts" "$(echo "$end - $start" | bc)"

echo "== 3. detection delay of small faults (calibrated twin; the 0.15 threshold of the true model)"
first_alert() { # first_alert CONFIG RECORDING: the ts of the first alert raised, or "none"
  "$twind" replay -c "$1" -i "$2" 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    j = json.loads(l)
    if j["topic"] == "twin/alert" and j["payload"]["state"] == "raised":
        print(repr(j["payload"]["ts"]), j["payload"].get("detector", "")); break
else:
    print("none")'
}
t0=1732200000
while IFS='|' read -r name duration flags; do
  # shellcheck disable=SC2086 # the flags are words
  "$sim" --record "$tmp/fault.jsonl" --duration "$duration" --wear-at 60 --noise 0.01 --seed 6 \
    $flags 2>/dev/null
  read -r cal_ts cal_by <<<"$(first_alert "$tmp/cal.yaml" "$tmp/fault.jsonl")"
  read -r fixed_ts _ <<<"$(first_alert config/twind.yaml "$tmp/fault.jsonl")"
  if [[ $cal_ts == none ]]; then delay=missed; else delay=$(printf '%.2f s (%s)' "$(echo "$cal_ts - $t0 - 60" | bc)" "$cal_by"); fi
  if [[ $fixed_ts == none ]]; then fixed="never"; else fixed=$(printf '%.2f s' "$(echo "$fixed_ts - $t0 - 60" | bc)"); fi
  printf '%-42s calibrated: %-22s 0.15 threshold: %s\n' "$name" "$delay" "$fixed"
done <<'EOF'
pole -1 -> -1.03|120|--wear-pole -1.03
actuator gain 0.97|120|--wear-pole -1 --wear-gain 0.97
output (sensor) gain 0.97|120|--wear-pole -1 --wear-sensor-gain 0.97
sensor bias +0.02 (2 sigma)|120|--wear-pole -1 --wear-sensor-bias 0.02
pole drifting -1 -> -1.03 over 600 s|660|--wear-pole -1.03 --wear-drift 600
the seed wear, pole -1 -> -2|120|--wear-pole -2
EOF
