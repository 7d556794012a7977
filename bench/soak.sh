#!/usr/bin/env bash
# Soak: does twind stay flat over time? A fresh Debian mosquitto on a free
# loopback port; twind with config/fleet.yaml (HTTP /metrics on); twin-sim --fleet ASSETS --rate
# RATE; an injector that every second publishes an outlier y (50, far past the 0.15 threshold) for
# INJECT plants (the last ones of the fleet), each raising an alert that the plant's next frame
# clears, so that alerts keep flowing all along (2 x INJECT a second: with the default 20, 200 in a
# 5 s window, enough for a p99, which the probe gives only from 100 samples up); and
# bench/fleet_probe.cpp in WINDOW-second windows
# (one JSON line each). After WARMUP s, for DURATION s, each window adds one row to the timeline
# (CSV): twind's VmRSS, heap in use (twind_heap_bytes, scraped from /metrics, as Prometheus would)
# and CPU, states received and missing, tick due -> state received and
# frame -> alert received latencies (p50/p99/max, ms; alerts: the outlier's or the clearing frame's
# ts -> arrival), alerts received.
#
#   bench/soak.sh [DURATION]      default 600 s (10 minutes), 1,000 assets; CI runs DURATION=60
#   env: DURATION=600 ASSETS=1000 RATE=2 (Hz) WARMUP=90 (s) WINDOW=10 (s; 5 when DURATION < 120)
#        INJECT=20 (plants with outliers) BUILD=build (where twind, twin-sim and
#        bench/twind_fleet_probe are; or each one given: TWIND=, SIM=, PROBE=)
#        TIMELINE=./soak-timeline.csv (the timeline's path) HEAP_GROWTH_KB=512 RSS_GROWTH_KB=2048
#        LAT_FACTOR=5
#        LAT_SLACK_MS=25
#
# Verdict (exit 1 on any):
# - memory: early = the highest heap in use over the first third of the windows, late = the
#   highest over the last third; fail if late - early > HEAP_GROWTH_KB; the same for RSS with
#   RSS_GROWTH_KB (see "Bounds" below).
# - latency: fail if the last window's p99 > max(LAT_FACTOR x the first window's p99, the first's
#   + LAT_SLACK_MS), for states and for alerts (alerts only with a p99 in both windows, i.e. 100+
#   samples).
# - loss: a state missing (a gap in an asset's seq, across windows too), a tick skipped
#   (twind_ticks_skipped_total > 0) or telemetry dropped at twind's inbox
#   (twind_inbox_dropped_total > 0): twind fell behind.
# - a process died, or no state or alert arrived in a window; twind or twin-sim did not exit 0 on
#   SIGTERM, or a sanitizer report in the stderr of twind, twin-sim or the probe.
# Bounds, from runs on this 2-core machine (2026-12-04; 1,000 assets, HTTP on and scraped every
# window, broker, twin-sim and the probe on the same cores). Heap in use is exact (what the
# allocator handed out and did not get back), RSS is not (the allocator keeps free pages or gives
# them back as it likes), so the heap is the sharp test and RSS the check that nothing outside
# malloc grows. twind's heap rises for the first ~70 s by ~1.5 MB as the dashboard's event ring
# (4,096 alerts and diagnoses, docs/dashboard.md) fills at the injector's ~60 events/s, hence the
# 90 s warm-up; after it, over 5 minutes, heap 21.2-21.8 MB (its window maxima within 50 kB of
# each other: the wobble is a /metrics text of 270 kB alive twice) and RSS 33-35 MB. A heap leak
# of 1 byte per message (2,000 frames in + 2,000 states out a second) adds 1.6 MB between the
# thirds of a 10-minute run; one of ~3 bytes fails the 60-second one. State p99 per window:
# 2.6-9.7 ms, alert p99: 2.2-13.5 ms; 5x or +25 ms (whichever is larger) is generous for that
# noise and still fails a backlog that keeps growing (latency rising window after window to
# hundreds of ms).
# Every process started here is stopped by its PID; all traffic stays on 127.0.0.1.
set -euo pipefail
TIMELINE=$(realpath -m "${TIMELINE:-soak-timeline.csv}") # before the cd: relative to the caller
cd "$(dirname "$0")/.."
DURATION=${1:-${DURATION:-600}}
ASSETS=${ASSETS:-1000}
RATE=${RATE:-2}
WARMUP=${WARMUP:-90}
if ((DURATION < 120)); then WINDOW=${WINDOW:-5}; else WINDOW=${WINDOW:-10}; fi
INJECT=${INJECT:-20}
BUILD=${BUILD:-build}
HEAP_GROWTH_KB=${HEAP_GROWTH_KB:-512}
RSS_GROWTH_KB=${RSS_GROWTH_KB:-2048}
LAT_FACTOR=${LAT_FACTOR:-5}
LAT_SLACK_MS=${LAT_SLACK_MS:-25}
TWIND=${TWIND:-$BUILD/twind}
SIM=${SIM:-$BUILD/twin-sim}
PROBE=${PROBE:-$BUILD/bench/twind_fleet_probe}
for f in "$TWIND" "$SIM" "$PROBE"; do
  [[ -x $f ]] || { echo "soak: $f missing; build it: cmake --build $BUILD --target twind twin-sim twind_fleet_probe" >&2; exit 2; }
done
((DURATION >= 3 * WINDOW)) || { echo "soak: DURATION must be at least 3 windows ($((3 * WINDOW)) s)" >&2; exit 2; }
source scripts/lib/broker.sh
source scripts/lib/measure.sh
source scripts/lib/sanitizer.sh
init_work

start_broker "$work"
http_port=$(free_port)
start_twind_http "$(dirname "$TWIND")" config/fleet.yaml "127.0.0.1:$http_port" "$work/twind.log"
"$SIM" --broker "$BROKER_URI" --fleet "$ASSETS" --rate "$RATE" --duration 0 \
  --client-id twin-sim-soak >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
pids+=("$sim_pid")

start_outliers "$BROKER_PORT" "$ASSETS" "$INJECT"

sleep "$WARMUP"
"$PROBE" "$BROKER_URI" "$DURATION" "$ASSETS" 0 "$WINDOW" >"$work/probe.jsonl" 2>"$work/probe.err" &
probe_pid=$!
pids+=("$probe_pid")

echo "t_s,rss_kb,heap_kb,twind_cpu_pct,states,states_missing,state_p50_ms,state_p99_ms,state_max_ms,alerts,alert_n,alert_p50_ms,alert_p99_ms,alert_max_ms" >"$TIMELINE"
t_start=$(now)
window_start "$TWIND_PID"
rows=0
died=""
# row LINE: one probe window -> one timeline row, with twind's RSS and CPU at the window's end.
row() {
  local rss heap
  printf '%s\n' "$1" >"$work/window.json"
  window_end "$TWIND_PID"
  rss=$(rss_kb "$TWIND_PID" || echo "?")
  http_get "$http_port" /metrics >"$work/window.metrics" 2>/dev/null || : >"$work/window.metrics"
  heap=$(metric twind_heap_bytes "$work/window.metrics")
  [[ $heap == "?" ]] || heap=$((heap / 1024))
  printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' \
    "$(awk -v a="$t_start" -v b="$WINDOW_AT" 'BEGIN {printf "%.1f", b - a}')" "$rss" "$heap" "$WINDOW_CPU" \
    "$(jnum states "$work/window.json")" "$(jnum states_missing "$work/window.json")" \
    "$(jsub state_latency_ms p50 "$work/window.json")" "$(jsub state_latency_ms p99 "$work/window.json")" \
    "$(jsub state_latency_ms max "$work/window.json")" "$(jnum alerts "$work/window.json")" \
    "$(jsub alert_latency_ms n "$work/window.json")" "$(jsub alert_latency_ms p50 "$work/window.json")" \
    "$(jsub alert_latency_ms p99 "$work/window.json")" "$(jsub alert_latency_ms max "$work/window.json")" \
    >>"$TIMELINE"
  rows=$((rows + 1))
}
watched=("$TWIND_PID:twind" "$BROKER_PID:mosquitto" "$sim_pid:twin-sim")
follow_probe "$probe_pid" "$work/probe.jsonl"
http_get "$http_port" /metrics >"$work/metrics.txt" 2>/dev/null || : >"$work/metrics.txt"

# --- verdict -------------------------------------------------------------------------------------
failed=0
verdict() { echo "FAIL: $*"; failed=1; }
((rows >= 3)) || verdict "only $rows windows recorded (probe: $(tail -n 2 "$work/probe.err" | tr '\n' ' '))"
[[ -z $died ]] || verdict "died:$died"
skipped=$(metric twind_ticks_skipped_total "$work/metrics.txt")
dropped=$(metric twind_inbox_dropped_total "$work/metrics.txt")
echo "twind: ticks skipped $skipped (twind_ticks_skipped_total), telemetry dropped at the inbox" \
  "$dropped (twind_inbox_dropped_total)"
[[ $skipped == 0 ]] || verdict "twind skipped ticks: twind_ticks_skipped_total $skipped (?: no /metrics)"
[[ $dropped == 0 ]] || verdict "twind dropped telemetry: twind_inbox_dropped_total $dropped (?: no /metrics)"
echo "soak: $ASSETS assets at $RATE Hz, $INJECT with an outlier every second, $DURATION s in" \
  "$WINDOW s windows after $WARMUP s of warm-up; $("$TWIND" --version)"
column -s, -t "$TIMELINE" 2>/dev/null || cat "$TIMELINE"
if ((rows >= 3)); then
  # Column numbers: 2 rss_kb, 3 heap_kb, 5 states, 6 states_missing, 8 state_p99_ms, 10 alerts,
  # 11 alert_n, 13 alert_p99_ms.
  summary=$(awk -F, -v g="$RSS_GROWTH_KB" -v hg="$HEAP_GROWTH_KB" -v f="$LAT_FACTOR" -v s="$LAT_SLACK_MS" '
    NR == 1 {next}
    {i = NR - 1; rss[i] = $2; heap[i] = $3; st[i] = $5; sp[i] = $8; al[i] = $10; an[i] = $11
     ap[i] = $13; n = i; states += $5; missing += $6; alerts += $10}
    function bound(x) { return (f * x > x + s) ? f * x : x + s }
    END {
      third = int(n / 3); if (third < 1) third = 1
      early = 0; late = 0; hearly = 0; hlate = 0
      for (i = 1; i <= third; i++) {
        if (rss[i] > early) early = rss[i]
        if (heap[i] > hearly) hearly = heap[i]
      }
      for (i = n - third + 1; i <= n; i++) {
        if (rss[i] > late) late = rss[i]
        if (heap[i] > hlate) hlate = heap[i]
      }
      printf "received: %d states (%d missing), %d alerts\n", states, missing, alerts
      if (missing > 0) print "FAIL: " missing " states missing (gaps in the assets\047 seq)"
      printf "RSS: first %d kB, last %d kB; early max %d kB, late max %d kB, growth %d kB (bound %d kB)\n", rss[1], rss[n], early, late, late - early, g
      if (late - early > g) print "FAIL: RSS grew by " late - early " kB (bound " g " kB)"
      if (heap[1] == "?" || heap[n] == "?") print "FAIL: no twind_heap_bytes in /metrics"
      printf "heap: first %s kB, last %s kB; early max %d kB, late max %d kB, growth %d kB (bound %d kB)\n", heap[1], heap[n], hearly, hlate, hlate - hearly, hg
      if (hlate - hearly > hg) print "FAIL: heap grew by " hlate - hearly " kB (bound " hg " kB)"
      printf "state latency p99: first window %.2f ms, last %.2f ms (bound %.2f ms)\n", sp[1], sp[n], bound(sp[1])
      if (sp[n] == "?" || sp[n] > bound(sp[1])) print "FAIL: state p99 grew from " sp[1] " to " sp[n] " ms"
      if (ap[1] != "?" && ap[n] != "?") {
        printf "alert latency p99: first window %.2f ms, last %.2f ms (bound %.2f ms)\n", ap[1], ap[n], bound(ap[1])
        if (ap[n] > bound(ap[1])) print "FAIL: alert p99 grew from " ap[1] " to " ap[n] " ms"
      } else print "FAIL: fewer than 100 alerts in the first or last window, no p99 to compare"
      for (i = 1; i <= n; i++) {
        if (st[i] == 0 || st[i] == "?") print "FAIL: window " i " received no state"
        if (al[i] == 0 || al[i] == "?") print "FAIL: window " i " received no alert"
      }
    }' "$TIMELINE")
  echo "$summary"
  [[ $summary != *FAIL:* ]] || failed=1
fi
# twin-sim prints its summary on SIGTERM; each child exits by itself, so that a sanitizer build's
# leak check runs.
stop_checked twin-sim "$sim_pid" "$work/sim.err" || failed=1
echo "twin-sim: $(grep -o 'fleet summary:.*' "$work/sim.err" || echo "no summary")"
stop_checked twind "$TWIND_PID" "$work/twind.log" || failed=1
sanitizer_check probe "$work/probe.err" || failed=1
cp "$work/twind.log" "${TIMELINE%.csv}.twind.log"
echo "timeline: $TIMELINE (twind's log beside it: ${TIMELINE%.csv}.twind.log)"
((failed == 0)) && echo "soak: ok" || echo "soak: FAILED"
exit "$failed"
