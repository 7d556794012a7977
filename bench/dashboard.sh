#!/usr/bin/env bash
# The dashboard at fleet scale: a real mosquitto, twind on config/fleet.yaml serving its
# dashboard, twin-sim --fleet N at 2 Hz (100 plants wearing), and Debian's chromium, headless,
# driven by playwright-core (tests/web/node_modules) over the fleet page. Measures, REPEAT times:
# - load: from navigation to the page showing N assets (its first /state read and render);
# - refresh: the page's own time to read /state and render again (median of 10);
# - scroll: from scrolling half-way to the rows in view being rendered;
# - JS heap used, and the page's GET /state size;
# - twind's RSS with --http-history HISTORY (default 240) and with 0.
#   bench/dashboard.sh [N]   default 10000; REPEAT=2, BUILD=build, HISTORY=240, SETTLE=60 (s
#                            of states before it measures)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/broker.sh
source scripts/lib/measure.sh
n=${1:-10000}
REPEAT=${REPEAT:-2} BUILD=${BUILD:-build} HISTORY=${HISTORY:-240} SETTLE=${SETTLE:-60}
[[ -f tests/web/node_modules/playwright-core/package.json ]] ||
  { echo "dashboard.sh: no tests/web/node_modules (scripts/setup.sh runs npm ci there)" >&2; exit 2; }
cmake --build "$BUILD" -j "$(nproc)" --target twind twin-sim >/dev/null
init_work

for run in $(seq "$REPEAT"); do
  for history in "$HISTORY" 0; do
    start_broker "$work"
    http_port=$(free_port)
    "$BUILD/twind" run -c config/fleet.yaml --broker "$BROKER_URI" --http "127.0.0.1:$http_port" \
      --http-history "$history" >"$work/twind.log" 2>&1 &
    twind_pid=$!
    pids+=("$twind_pid")
    "$BUILD/twin-sim" --broker "$BROKER_URI" --fleet "$n" --rate 2 --wear-at 5 --wear-assets 100 \
      --duration 0 --client-id twin-sim-dashboard >"$work/sim.out" 2>&1 &
    sim_pid=$!
    pids+=("$sim_pid")
    # Every asset discovered, then SETTLE seconds of states.
    for _ in $(seq 600); do
      c=$(http_get "$http_port" /state 2>/dev/null | grep -o '"asset":' | wc -l || true)
      ((c >= n)) && break
      sleep 0.1
    done
    sleep "$SETTLE"
    rss=$(rss_kb "$twind_pid")
    if ((history > 0)); then
      node bench/dashboard_page.mjs "http://127.0.0.1:$http_port" "$n" | sed "s/^/run $run: /"
    fi
    echo "run $run: twind RSS with --http-history $history, $n assets, after $SETTLE s: $rss kB"
    stop_pid "$sim_pid" || true
    stop_pid "$twind_pid" || true
    stop_pid "$BROKER_PID" || true
  done
done
