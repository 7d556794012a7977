#!/usr/bin/env bash
# The dashboard in a real browser: a real mosquitto on a free loopback port, twind serving its
# dashboard on another, twin-sim wearing the seed plant WEAR_AT seconds in (default 12), and
# Debian's chromium driven headless by playwright-core (tests/web/node_modules, installed by
# scripts/setup.sh). dashboard.mjs does the checks: the fleet page lists the asset, the asset
# page draws points in its three panels, the wear's alert is on the page within one second of
# its MQTT publication (MQTT.js, subscribed over TCP, stamps the publication), and the console
# shows no error. Screenshots of both pages go to ARTIFACTS. Every process is stopped by its PID;
# twind and twin-sim must exit 0 without a sanitizer report. About 25 s.
#   dashboard.sh TWIND TWIN_SIM CONFIG ARTIFACTS
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/lib/broker.sh"
source "$here/../../scripts/lib/sanitizer.sh"
twind=$1 sim=$2 config=$3 artifacts=$4
# Twelve seconds: chromium and both pages take 5.5 s to be ready on an idle 2-core machine and
# 7-8 s beside ASan tests four at a time; the page must be seen without an alert before the wear.
wear_at=${WEAR_AT:-12}

command -v node >/dev/null || { echo "FAIL: no node (scripts/setup.sh installs nodejs)"; exit 1; }
[[ -x /usr/bin/chromium ]] || { echo "FAIL: no /usr/bin/chromium (scripts/setup.sh installs it)"; exit 1; }
[[ -f $here/node_modules/playwright-core/package.json ]] ||
  { echo "FAIL: no $here/node_modules/playwright-core (scripts/setup.sh runs npm ci there)"; exit 1; }

init_work
mkdir -p "$artifacts"
start_broker "$work" || { echo "FAIL: no broker"; exit 1; }

http_port=$(free_port)
"$twind" run -c "$config" --broker "$BROKER_URI" --http "127.0.0.1:$http_port" \
  2>"$work/twind.err" >"$work/twind.out" &
twind_pid=$!
pids+=("$twind_pid")
for _ in $(seq 200); do port_free "$http_port" || break; sleep 0.05; done
port_free "$http_port" && { echo "FAIL: twind did not serve on $http_port"; cat "$work/twind.err"; exit 1; }

sim_started_ms=$(date +%s%3N)
"$sim" --broker "$BROKER_URI" --duration $((wear_at + 14)) --wear-at "$wear_at" --noise 0.01 \
  >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
pids+=("$sim_pid")

rc=0
node "$here/dashboard.mjs" "http://127.0.0.1:$http_port" "mqtt://127.0.0.1:$BROKER_PORT" \
  "$artifacts" "$wear_at" "$sim_started_ms" || rc=$?

stop_checked twin-sim "$sim_pid" "$work/sim.err" || rc=1
stop_checked twind "$twind_pid" "$work/twind.err" || rc=1
if ((rc != 0)); then
  echo "--- twind's log:"; tail -n 20 "$work/twind.err" "$work/twind.out"
fi
exit "$rc"
