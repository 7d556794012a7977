#!/usr/bin/env bash
# Overload: what twind does when it cannot keep up, and how it comes back. A fresh Debian
# mosquitto on a free loopback port; twind with config/fleet.yaml (HTTP /metrics on) in a CPU
# cgroup of its own; twin-sim --fleet ASSETS --rate RATE, healthy plants (none wears); the fleet
# probe (bench/fleet_probe.cpp) in WINDOW-second windows. The load stays the same throughout;
# twind's CPU is what changes, so that broker and twin-sim are never the bottleneck:
#   BEFORE s at NORMAL_CPU of a core (three times what the load needs on this 2-core VM, where
#     twind takes 16-20 % of a core for it: room for a machine twice as slow),
#   OVERLOAD s at OVERLOAD_CPU (a quarter of what it needs here: 4x its capacity, still 2x on a
#     machine twice as fast),
#   AFTER s at NORMAL_CPU again.
# Each window adds a row to the timeline (CSV): phase, twind's RSS and CPU, its lag
# (twind_lag_seconds) and status (/healthz: ok or degraded), values shed, twins re-anchored and
# states thinned (twind_shed_total, twind_reanchored_total, twind_states_thinned_total, over the
# window), states received and missing,
# state p99, alerts received.
#
#   bench/overload.sh        env: ASSETS=1500 RATE=2 NORMAL_CPU=0.5 OVERLOAD_CPU=0.04
#                            BEFORE=20 OVERLOAD=60 AFTER=60 WINDOW=5 (s) MAX_RSS_KB=65536
#                            RECOVER=30 (s) BUILD=build (or TWIND=, SIM=, PROBE=)
#                            TIMELINE=./overload-timeline.csv
#
# Verdict (exit 1 on any):
# - an alert: every plant is healthy, so any alert the probe receives is false (a backlog or a
#   loss of twind's own taken for a plant's fault);
# - memory: twind's RSS above MAX_RSS_KB in any window;
# - not reported: no window of the overload where /healthz said degraded and the lag was past a
#   tick;
# - no recovery: RECOVER s after the overload, a window still lagging (past a tick), degraded, or
#   missing states; no state in a window (twind stopped publishing);
# - a process died, or twind or twin-sim did not exit 0 on SIGTERM; a sanitizer report.
# Exit 77 (skipped) without a CPU cgroup controller (needs root). Every process started here is
# stopped by its PID; all traffic stays on 127.0.0.1.
set -euo pipefail
TIMELINE=$(realpath -m "${TIMELINE:-overload-timeline.csv}") # before the cd: relative to the caller
cd "$(dirname "$0")/.."
ASSETS=${ASSETS:-1500}
RATE=${RATE:-2}
NORMAL_CPU=${NORMAL_CPU:-0.5}
OVERLOAD_CPU=${OVERLOAD_CPU:-0.04}
BEFORE=${BEFORE:-20}
OVERLOAD=${OVERLOAD:-60}
AFTER=${AFTER:-60}
WINDOW=${WINDOW:-5}
MAX_RSS_KB=${MAX_RSS_KB:-65536}
RECOVER=${RECOVER:-30}
BUILD=${BUILD:-build}
TWIND=${TWIND:-$BUILD/twind}
SIM=${SIM:-$BUILD/twin-sim}
PROBE=${PROBE:-$BUILD/bench/twind_fleet_probe}
for f in "$TWIND" "$SIM" "$PROBE"; do
  [[ -x $f ]] || { echo "overload: $f missing; build it: cmake --build $BUILD --target twind twin-sim twind_fleet_probe" >&2; exit 2; }
done
source scripts/lib/broker.sh
source scripts/lib/measure.sh
source scripts/lib/sanitizer.sh
init_work
total=$((BEFORE + OVERLOAD + AFTER))

start_broker "$work"
http_port=$(free_port)
start_twind_http "$(dirname "$TWIND")" config/fleet.yaml "127.0.0.1:$http_port" "$work/twind.log"
if ! limit_cpu "$TWIND_PID" "$NORMAL_CPU" 2>"$work/cgroup.err"; then
  echo "SKIP: $(cat "$work/cgroup.err")"
  exit 77
fi
"$SIM" --broker "$BROKER_URI" --fleet "$ASSETS" --rate "$RATE" --wear-assets 0 --duration 0 \
  --client-id twin-sim-overload >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
pids+=("$sim_pid")
"$PROBE" "$BROKER_URI" "$total" "$ASSETS" 0 "$WINDOW" >"$work/probe.jsonl" 2>"$work/probe.err" &
probe_pid=$!
pids+=("$probe_pid")

echo "t_s,phase,cpu_quota,rss_kb,twind_cpu_pct,lag_s,healthz,shed,reanchored,thinned,states,states_missing,state_p99_ms,alerts" >"$TIMELINE"
t_start=$(now)
window_start "$TWIND_PID"
http_get "$http_port" /metrics >"$work/m.prev" 2>/dev/null || : >"$work/m.prev"
rows=0
died=""
phase=before
quota=$NORMAL_CPU
delta() { # delta NAME: NAME's growth between the previous and this window's /metrics
  awk -v a="$(metric "$1" "$work/m.prev")" -v b="$(metric "$1" "$work/m.now")" \
    'BEGIN {if (a == "?" || b == "?") print "?"; else printf "%.0f", b - a}'
}
row() {
  local rss health
  printf '%s\n' "$1" >"$work/window.json"
  window_end "$TWIND_PID"
  rss=$(rss_kb "$TWIND_PID" || echo "?")
  http_get "$http_port" /metrics >"$work/m.now" 2>/dev/null || : >"$work/m.now"
  # /healthz: 200 "ok", 200 "degraded: ... behind its input", or 503 and why.
  health=$(http_get "$http_port" /healthz 2>/dev/null || echo "?")
  case $health in
    ok*) health=ok ;;
    degraded*) health=degraded ;;
    *) health=unhealthy ;;
  esac
  printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' \
    "$(awk -v a="$t_start" -v b="$WINDOW_AT" 'BEGIN {printf "%.1f", b - a}')" "$phase" "$quota" "$rss" "$WINDOW_CPU" \
    "$(awk '$1 == "twind_lag_seconds" {printf "%.2f", $2}' "$work/m.now")" "$health" \
    "$(delta twind_shed_total)" "$(delta twind_reanchored_total)" \
    "$(delta twind_states_thinned_total)" \
    "$(jnum states "$work/window.json")" "$(jnum states_missing "$work/window.json")" \
    "$(jsub state_latency_ms p99 "$work/window.json")" "$(jnum alerts "$work/window.json")" \
    >>"$TIMELINE"
  mv "$work/m.now" "$work/m.prev"
  rows=$((rows + 1))
}
# The phases: twind's CPU quota changes at BEFORE and at BEFORE + OVERLOAD seconds.
next_phase() {
  local elapsed
  elapsed=$(awk -v a="$t_start" -v b="$(now)" 'BEGIN {printf "%d", b - a}')
  if [[ $phase == before ]] && ((elapsed >= BEFORE)); then
    phase=overload quota=$OVERLOAD_CPU
    set_cpu_quota "$CPU_CGROUP" "$quota"
  elif [[ $phase == overload ]] && ((elapsed >= BEFORE + OVERLOAD)); then
    phase=after quota=$NORMAL_CPU
    set_cpu_quota "$CPU_CGROUP" "$quota"
  fi
}
watched=("$TWIND_PID:twind" "$BROKER_PID:mosquitto" "$sim_pid:twin-sim")
follow_probe "$probe_pid" "$work/probe.jsonl" next_phase
cp "$work/probe.jsonl" "${TIMELINE%.csv}.probe.jsonl"

# --- verdict -------------------------------------------------------------------------------------
failed=0
verdict() { echo "FAIL: $*"; failed=1; }
[[ -z $died ]] || verdict "died:$died"
echo "overload: $ASSETS assets at $RATE Hz; twind at $NORMAL_CPU of a core for $BEFORE s," \
  "$OVERLOAD_CPU for $OVERLOAD s, $NORMAL_CPU for $AFTER s; $WINDOW s windows; $("$TWIND" --version)"
column -s, -t "$TIMELINE" 2>/dev/null || cat "$TIMELINE"
# Columns: 1 t_s, 2 phase, 4 rss_kb, 6 lag_s, 7 healthz, 11 states, 12 states_missing, 14 alerts.
summary=$(awk -F, -v rss_max="$MAX_RSS_KB" -v tick=0.5 -v end="$((BEFORE + OVERLOAD))" \
  -v recover="$RECOVER" -v window="$WINDOW" '
  NR == 1 {next}
  {n++; alerts += $14; if ($4 > peak) peak = $4
   if ($11 == 0 || $11 == "?") print "FAIL: window at " $1 " s received no state"
   if ($2 == "overload" && $7 == "degraded" && $6 > tick) reported++
   if ($2 == "overload" && $6 > lag_peak) lag_peak = $6
   # Recovered: the first window, after the overload, that is fully back; every later one too.
   if ($2 == "after" && $1 - window >= end) {
     ok = ($6 <= tick && $7 == "ok" && $12 == 0)
     if (ok && !recovered_at) recovered_at = $1 - window - end
     if (!ok && recovered_at) { print "FAIL: window at " $1 " s lags again after the recovery"; recovered_at = 0 }
     if (!ok && $1 - window - end >= recover) late++
   }}
  END {
    printf "alerts received: %d (every plant healthy: any is false)\n", alerts
    if (alerts > 0) print "FAIL: " alerts " false alerts"
    printf "RSS: peak %d kB (bound %d kB)\n", peak, rss_max
    if (peak > rss_max) print "FAIL: RSS " peak " kB over the bound"
    printf "overload: %d windows reported (degraded, lag past a tick), lag peak %.2f s\n", reported, lag_peak
    if (reported == 0) print "FAIL: the overload was never reported"
    if (recovered_at) printf "recovered: %.1f s after the overload ended (bound %d s)\n", recovered_at, recover
    else print "FAIL: not recovered by the end"
    if (late > 0) print "FAIL: " late " windows still behind " recover " s after the overload"
  }' "$TIMELINE")
echo "$summary"
[[ $summary != *FAIL:* ]] || failed=1
stop_checked twin-sim "$sim_pid" "$work/sim.err" || failed=1
echo "twin-sim: $(grep -o 'fleet summary:.*' "$work/sim.err" || echo "no summary")"
stop_checked twind "$TWIND_PID" "$work/twind.log" || failed=1
sanitizer_check probe "$work/probe.err" || failed=1
grep -E "behind|caught up" "$work/twind.log" | head -20 || true
cp "$work/twind.log" "${TIMELINE%.csv}.twind.log"
echo "timeline: $TIMELINE (twind's log beside it: ${TIMELINE%.csv}.twind.log)"
exit "$failed"
