#!/usr/bin/env bash
# Speed at fleet scale (issue 4, point 4). For each fleet size N: a fresh Debian mosquitto on a free
# loopback port; twind with config/fleet.yaml (one twin per plant discovered under plant/+/...);
# twin-sim --fleet N publishing one frame {ts,u,y} per plant every 1/RATE s, spread evenly, the
# first WEAR plants wearing in the middle of the window; and bench/fleet_probe.cpp timing twind's
# states and alerts. After a warm-up, over a window of DURATION seconds, it samples the CPU time of
# twind, the broker and twin-sim (/proc/PID/stat) and twind's counters (/metrics), then prints a
# Markdown table. Every process started here is stopped by its PID; the script exits 1 if one of
# them died during a run.
#
#   bench/fleet.sh [N ...]        default 1000 5000 10000; about DURATION + WARMUP + 5 s per N
#   env: DURATION=30 (s measured), WARMUP=5 (s before it), WEAR=10 (wearing plants), RATE=2 (Hz),
#        BUILD=build (build directory, RelWithDebInfo), KEEP=DIR (keep every run's logs there)
#
# Columns: frames/s in = frames twind received per second; states/s out = states the probe
# received per second (N x 2 expected with the 500 ms tick); latencies in ms (state: arrival minus
# the tick's due time; alert: arrival minus the deciding frame's ts, i.e. telemetry published ->
# alert received); CPU in % of one core; RSS per asset = (VmRSS at the end - VmRSS once connected,
# before any asset) / N; dropped = frames published by twin-sim and never received by twind / states
# missing in the probe's per-asset seq / frames dropped by twind's inbox; alerts = wearing plants
# that raised an alert / WEAR, and alerts raised by healthy plants.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
WEAR=${WEAR:-10}
RATE=${RATE:-2}
CONFIG=config/fleet.yaml
sizes=("$@")
((${#sizes[@]})) || sizes=(1000 5000 10000)

scripts/setup.sh >/dev/null
if [[ ! -f $BUILD/build.ninja ]]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" -j "$(nproc)" --target twind twin-sim twind_fleet_probe >/dev/null
source scripts/lib/broker.sh
source scripts/lib/measure.sh
init_work
hz=$(getconf CLK_TCK)

# summary KEY FILE: a key=value of twin-sim's summary line, or "?".
summary() {
  local v
  v=$(grep -o "fleet summary:.*" "$2" | grep -o " $1=[0-9.]*" | cut -d= -f2)
  echo "${v:-?}"
}
# calc EXPR FORMAT: EXPR evaluated by awk and printed with FORMAT; "?" if a figure in it is unknown.
calc() {
  if [[ $1 == *"?"* ]]; then echo "?"; else awk "BEGIN {v = $1; printf \"$2\", v}"; fi
}
diff_or_q() { [[ $1 == "?" || $2 == "?" ]] && echo "?" || echo $(($1 - $2)); }

rows=()
details=()
failed=0

run_size() {
  local n=$1 dir="$work/n$1" died=""
  mkdir -p "$dir"
  start_broker "$dir"
  local http_port
  http_port=$(free_port)
  start_twind_http "$BUILD" "$CONFIG" "127.0.0.1:$http_port" "$dir/twind.log"
  sleep 1
  local rss0
  rss0=$(rss_kb "$TWIND_PID")
  local wear_at
  wear_at=$(calc "$WARMUP + 1 + $DURATION / 2" "%.3f")
  "$BUILD/twin-sim" --broker "$BROKER_URI" --fleet "$n" --rate "$RATE" --wear-at "$wear_at" \
    --wear-assets "$WEAR" --duration 0 --client-id "twin-sim-fleet" >"$dir/sim.out" 2>"$dir/sim.err" &
  local sim_pid=$!
  pids+=("$sim_pid")
  sleep "$WARMUP"

  "$BUILD/bench/twind_fleet_probe" "$BROKER_URI" "$DURATION" "$n" "$WEAR" >"$dir/probe.json" \
    2>"$dir/probe.err" &
  local probe_pid=$!
  pids+=("$probe_pid")
  for _ in $(seq 200); do
    grep -q "subscribed" "$dir/probe.err" && break
    alive "$probe_pid" || break
    sleep 0.05
  done
  local t0 c0_twind c0_broker c0_sim c0_probe c1_probe="?"
  t0=$(now)
  c0_twind=$(cpu_ticks "$TWIND_PID") c0_broker=$(cpu_ticks "$BROKER_PID") c0_sim=$(cpu_ticks "$sim_pid")
  c0_probe=$(cpu_ticks "$probe_pid" || echo "?")
  http_get "$http_port" /metrics >"$dir/metrics0.txt" || true

  while alive "$probe_pid"; do
    c1_probe=$(cpu_ticks "$probe_pid" 2>/dev/null || echo "$c1_probe")
    for p in "$TWIND_PID:twind" "$BROKER_PID:mosquitto" "$sim_pid:twin-sim"; do
      alive "${p%%:*}" || { [[ $died == *"${p#*:}"* ]] || died+=" ${p#*:}"; }
    done
    sleep 0.5
  done
  local probe_rc=0
  wait "$probe_pid" || probe_rc=$?
  forget_pid "$probe_pid"
  [[ $probe_rc -eq 0 ]] || died+=" probe(rc=$probe_rc)"

  local t1 c1_twind="?" c1_broker="?" c1_sim="?" rss1="?"
  t1=$(now)
  alive "$TWIND_PID" && c1_twind=$(cpu_ticks "$TWIND_PID") && rss1=$(rss_kb "$TWIND_PID")
  alive "$BROKER_PID" && c1_broker=$(cpu_ticks "$BROKER_PID")
  alive "$sim_pid" && c1_sim=$(cpu_ticks "$sim_pid")
  http_get "$http_port" /metrics >"$dir/metrics1.txt" || true

  # twin-sim prints its summary on SIGTERM; then twind gets a second to take what is in flight.
  local sim_rc=0
  stop_pid "$sim_pid" || sim_rc=$?
  [[ $sim_rc -eq 0 ]] || died+=" twin-sim(rc=$sim_rc)"
  sleep 1
  http_get "$http_port" /metrics >"$dir/metrics2.txt" || true
  alive "$TWIND_PID" || died+=" twind"
  stop_pid "$TWIND_PID" || true
  stop_pid "$BROKER_PID" || true
  [[ -z ${KEEP:-} ]] || { mkdir -p "$KEEP" && cp -r "$dir" "$KEEP/"; }

  local window published received inbox_drops missing
  window=$(calc "$t1 - $t0" "%.3f")
  published=$(summary published "$dir/sim.err")
  # Telemetry received = offered to the twins + dropped at the inbox. Not
  # twind_mqtt_received_total: that also counts twind's own state and status coming back to it
  # (broker.check_publish).
  telemetry() {
    calc "$(metric twind_messages_total "$1") + $(metric twind_inbox_dropped_total "$1")" "%.0f"
  }
  received=$(telemetry "$dir/metrics2.txt")
  inbox_drops=$(metric twind_inbox_dropped_total "$dir/metrics2.txt")
  missing=$(jnum states_missing "$dir/probe.json")
  local r0 r1 frames_in
  r0=$(telemetry "$dir/metrics0.txt")
  r1=$(telemetry "$dir/metrics1.txt")
  frames_in=$(calc "($r1 - $r0) / $window" "%.0f")
  local cpu_twind cpu_broker cpu_sim rss_per_asset
  cpu_twind=$(calc "($c1_twind - $c0_twind) / $hz / $window * 100" "%.0f")
  cpu_broker=$(calc "($c1_broker - $c0_broker) / $hz / $window * 100" "%.0f")
  cpu_sim=$(calc "($c1_sim - $c0_sim) / $hz / $window * 100" "%.0f")
  rss_per_asset=$(calc "($rss1 - $rss0) * 1024 / $n" "%.0f")
  rows+=("| $n | $frames_in | $(calc "$(jnum states_per_s "$dir/probe.json")" "%.0f") |\
 $(jlat state_latency_ms "$dir/probe.json") | $(jlat alert_latency_ms "$dir/probe.json") |\
 $cpu_twind | $cpu_broker | $cpu_sim | $rss_per_asset |\
 $(diff_or_q "$published" "$received") / $missing / $inbox_drops |\
 $(jnum wearing_assets_alerted "$dir/probe.json")/$WEAR, $(jnum alerts_raised_false "$dir/probe.json") |")
  details+=("N=$n: window ${window} s; probe CPU (until its last 0.5 s)\
 $(calc "($c1_probe - $c0_probe) / $hz / $window * 100" "%.0f") %;\
 twin-sim: $(grep -o "fleet summary:.*" "$dir/sim.err" || echo "no summary")")
  details+=("  twind: messages $(metric twind_messages_total "$dir/metrics2.txt"), mqtt received $(metric twind_mqtt_received_total "$dir/metrics2.txt"),\
 rejected $(metric twind_rejected_total "$dir/metrics2.txt"), inbox dropped $inbox_drops,\
 publish failed $(metric twind_publish_failed_total "$dir/metrics2.txt"),\
 states $(metric twind_states_total "$dir/metrics2.txt"), alerts $(metric twind_alerts_total "$dir/metrics2.txt");\
 RSS ${rss0} kB -> ${rss1} kB")
  details+=("  probe: $(cat "$dir/probe.json" 2>/dev/null || echo "no output")")
  if [[ -n $died ]]; then
    failed=1
    details+=("  DIED:$died (logs: twind $(tail -n 3 "$dir/twind.log" | tr '\n' ' '))")
  fi
}

echo "bench/fleet.sh: $("$BUILD/twind" --version), $(nproc) cores, $CONFIG, RATE=$RATE Hz, WARMUP=$WARMUP s, DURATION=$DURATION s, WEAR=$WEAR"
for n in "${sizes[@]}"; do
  echo "N=$n ..." >&2
  run_size "$n"
done
echo
echo "| N | frames/s in | states/s out | state latency p50 / p99 / max (ms) |\
 alert latency p50 / p99 / max (ms) | twind CPU % | broker CPU % | twin-sim CPU % |\
 RSS per asset (B) | dropped: sim->twind / states missing / inbox | alerts: wearing raised, false |"
echo "|---:|---:|---:|---|---|---:|---:|---:|---:|---|---|"
printf '%s\n' "${rows[@]}"
echo
printf '%s\n' "${details[@]}"
exit "$failed"
