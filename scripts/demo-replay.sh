#!/usr/bin/env bash
# The main job: sets up, builds, and replays the bundled seed scenario (G(s)=1/(s+1) under a PI
# loop, wear at t=3 s moves the pole from -1 to -2) through twind, printing its alert lines, and
# draws the figure of the run (measured against predicted, divergence, input) as an SVG.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

echo "== twin-sim: the seed plant, wear at t=3.00s (pole -1 -> -2), recorded to build/seed.jsonl"
build/twin-sim --record build/seed.jsonl --duration 8 --wear-at 3
echo "== twind replay -c config/twind.yaml -i build/seed.jsonl -o build/seed-out.jsonl --trace"
build/twind replay -c config/twind.yaml -i build/seed.jsonl -o build/seed-out.jsonl --trace 2>&1 |
  sed -E 's/^[0-9T:.-]+ [a-z]+ //'
echo "== what twind published (build/seed-out.jsonl): the alert, and the last state"
grep '"topic":"twin/alert"' build/seed-out.jsonl
grep '"topic":"twin/state"' build/seed-out.jsonl | tail -n 1
echo "== twind plot -i build/seed-out.jsonl -o build/seed-plot.svg (every sample, from the trace lines)"
build/twind plot -i build/seed-out.jsonl -o build/seed-plot.svg 2>&1 | sed -E 's/^[0-9T:.-]+ [a-z]+ //'
echo "figure: $PWD/build/seed-plot.svg"
