#!/usr/bin/env bash
# Broker chaos: does twind come back after its broker is killed or frozen, lose no alert and keep
# its memory bounded? twind, a fleet of ASSETS plants from twin-sim (--fleet, RATE Hz) and a
# persistent Debian mosquitto (persistence file in the work directory, autosave every second)
# on a free loopback port, then:
#   0. broker absent at start: twind starts first against a port nobody listens on; the broker
#      appears 3 s later on that port; twind must connect (twind_mqtt_connected 1) and states flow
#      (a state on twin/+/state, every asset `ok`);
#   1. KILLS cycles: SIGKILL the broker, OUTAGE s later restart it on the same port;
#   2. FREEZES cycles: SIGSTOP the broker for FREEZE s (longer than twind's 2 s keepalive), SIGCONT.
# twind runs config/fleet.yaml with `keepalive: 2s` (a copy in the work directory). While the broker
# is away telemetry stops, so every asset raises `stale` and clears it once data returns: 2 x ASSETS
# alert transitions per cycle at least (measured: 200 after nearly every kill and freeze; a twin
# restarts from its output when that comes back from stale, so the gap raises no divergence).
# Before each cycle the system must be settled (twind connected, its QoS 1 outbox empty, every
# asset ok, and the subscriber holding every alert twind produced), so that an alert counted lost
# is twind's and not the broker forgetting an unsaved queue.
#
# Each cycle must see twind detect the outage (twind_mqtt_connected 0 while the broker is away),
# reconnect (twind_mqtt_connects_total + 1), resubscribe (every asset back to `ok`: its telemetry
# reaches twind again) and settle within SETTLE s; a cycle that does not settle stops the run, with
# what twind was doing (its counters, the ends of the logs, its threads' stacks). At the end: lost = twind_alerts_total - distinct
# alert payloads received by tests/chaos/alert_log.cpp (clean_session=false, QoS 1, fixed client id,
# reconnecting by itself) must be 0; duplicates (at least once) are counted, not failed. Memory:
# twind's VmRSS after each settled cycle; fail if the highest exceeds the one after the first cycle
# by more than RSS_GROWTH_KB (default 4096 kB, see below).
#
#   tests/chaos/chaos.sh TWIND TWIN_SIM ALERT_LOG        (ctest -L chaos; about 9 minutes)
#   env: KILLS=20 FREEZES=20 ASSETS=100 RATE=2 OUTAGE=3 FREEZE=10 SETTLE=30 RSS_GROWTH_KB=4096
#        KEEP=DIR (keep the logs, the alert log and the per-cycle table there)
# At the end twin-sim, the subscriber and twind must exit 0 on SIGTERM, with no sanitizer report in
# their stderr. Prints one line per cycle and a summary; exit 0 on success, 1 on a failed check.
# Every process it starts is stopped by its PID; everything listens on 127.0.0.1 only.
set -euo pipefail
(($# == 3)) || { echo "usage: $0 TWIND TWIN_SIM ALERT_LOG" >&2; exit 2; }
twind_bin=$1 sim_bin=$2 log_bin=$3
KILLS=${KILLS:-20}
FREEZES=${FREEZES:-20}
ASSETS=${ASSETS:-100}
RATE=${RATE:-2}
OUTAGE=${OUTAGE:-3}
FREEZE=${FREEZE:-10}
SETTLE=${SETTLE:-30}
# Growth allowed between the RSS after the first cycle and the highest after any later one. Measured
# on the 2-core machine (100 assets): two runs of 20 + 20 cycles (14,604 and 15,126 alerts) grew by
# 904 and 1,100 kB, +110 kB over the kills and the rest in steps of 100-400 kB in a few freezes
# (apparently those after which the frozen period's telemetry arrived in one burst); a run of 60
# freezes rose 1,072 kB in such steps by the 21st and then stayed flat (14,784-14,800 kB) to the
# 60th: a high-water mark, not a leak. 3 MB is about three times that, and a leak of one alert
# payload (~250 B) per alert (3.6 MB over the run) or of 75 kB per outage fails it.
# Since 2026-12-04 twind also keeps its QoS 1 messages of the last 60 s (at most 4,096) to publish
# again after a delivery gap (broker.check_publish): at this test's ~40 alerts a second, up to
# ~2,400 of them, filled over the first 60 s of kills. Two runs that day (8,000 alerts each) grew
# by 2,656 and 2,700 kB, in steps over the 20 kills, then flat over the 20 freezes: ~1.6 MB more
# than before. The bound is 4 MB: a leak of one alert payload per alert (2 MB over the run) on
# top of that still fails it.
RSS_GROWTH_KB=${RSS_GROWTH_KB:-4096}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/lib/broker.sh"
source "$root/scripts/lib/measure.sh"
source "$root/scripts/lib/sanitizer.sh"
init_work
keep() { [[ -z ${KEEP:-} ]] || { mkdir -p "$KEEP" && cp -r "$work"/. "$KEEP/"; }; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# The stderr of each instrumented child, shown when it holds a sanitizer report.
scan_logs() {
  local f
  for f in twind.log sim.err alert_log.err; do
    [[ ! -f $work/$f ]] || sanitizer_check "${f%.*}" "$work/$f" || true
  done
}
die() { echo "FAIL: $*"; scan_logs; keep; exit 1; }
started=$(now)
# left SECONDS T0: what remains of SECONDS since T0 (0 if past).
left() { awk -v s="$1" -v a="$2" -v b="$(now)" 'BEGIN {v = s - (b - a); printf "%.2f", (v > 0 ? v : 0)}'; }

# --- the broker: persistent, always on the same port -------------------------------------------
port=$(free_port)
uri="tcp://127.0.0.1:$port"
mkdir -p "$work/broker"
{
  sed -e "s/@PORT@/$port/" -e '/^persistence false/d' -e '/^#/d' "$root/scripts/demo/mosquitto.conf.in"
  echo "persistence true"
  echo "persistence_location $work/broker/"
  echo "autosave_interval 1"
  echo "max_queued_messages 100000"
  # Started as root it would drop to user mosquitto, who cannot write our work directory.
  if ((EUID == 0)); then echo "user root"; fi
} >"$work/mosquitto.conf"
BROKER_PID=""
broker_start() {
  launch_broker "$work/mosquitto.conf" "$port" "$work/mosquitto.log" ||
    die "mosquitto did not start on port $port"
}
# broker_kill: SIGKILL, and the PID forgotten (never signalled again).
broker_kill() {
  kill -KILL "$BROKER_PID"
  wait "$BROKER_PID" 2>/dev/null || true
  forget_pid "$BROKER_PID"
}

# --- twind's counters ----------------------------------------------------------------------------
http=$(free_port)
sed 's/^  keepalive: 30s$/  keepalive: 2s/' "$root/config/fleet.yaml" >"$work/fleet.yaml"
grep -q '^  keepalive: 2s$' "$work/fleet.yaml" || die "config/fleet.yaml has no 'keepalive: 30s' to shorten"
# m NAME: NAME's value in twind's /metrics now (refreshed each call), or "?".
m() {
  http_get "$http" /metrics >"$work/metrics.txt" 2>/dev/null || { echo "?"; return 0; }
  metric "$1" "$work/metrics.txt"
}
# metrics_now: one /metrics dump; mval NAME reads from it.
metrics_now() { http_get "$http" /metrics >"$work/metrics.txt" 2>/dev/null || : >"$work/metrics.txt"; }
mval() { metric "$1" "$work/metrics.txt"; }
alerts_file="$work/alerts.log"
distinct() { sort -u "$alerts_file" | wc -l; }
received() { wc -l <"$alerts_file"; }
is_connected() { [[ $(m twind_mqtt_connected) == 1 ]]; }
is_disconnected() { [[ $(m twind_mqtt_connected) == 0 ]]; }
tried_to_connect() { [[ $(m twind_mqtt_connect_failures_total) =~ ^[1-9] ]]; }
# back_after N: connected again, after more than N connections.
back_after() {
  local c
  c=$(m twind_mqtt_connects_total)
  [[ $c != "?" && $c -gt $1 ]] && is_connected
}
# settled: connected, outbox empty, every asset ok, the subscriber holding every alert produced.
settled() {
  metrics_now
  [[ $(mval twind_mqtt_connected) == 1 && $(mval twind_mqtt_outbox) == 0 ]] || return 1
  [[ $(mval 'twind_assets{status="ok"}') == "$ASSETS" ]] || return 1
  [[ $(mval twind_alerts_total) == "$(distinct)" ]]
}
settle_state() {
  metrics_now
  echo "connected $(mval twind_mqtt_connected), outbox $(mval twind_mqtt_outbox), assets ok" \
    "$(mval 'twind_assets{status="ok"}')/$ASSETS, alerts produced $(mval twind_alerts_total)," \
    "received distinct $(distinct)"
}
# unsettled_evidence: what an unsettled twind was doing, printed once before the run stops: the
# assets by status, its lag and input counters (twice, 2 s apart: is anything moving?), the ends
# of its log and of twin-sim's, and the stacks of twind's threads (gdb, when installed).
unsettled_evidence() {
  local k s
  for k in 1 2; do
    metrics_now
    echo "  evidence $k: assets$(for s in starting ok alert stale; do
      printf ' %s %s' "$s" "$(mval "twind_assets{status=\"$s\"}")"
    done); lag $(grep '^twind_lag_seconds ' "$work/metrics.txt" | cut -d' ' -f2) s," \
      "behind periods $(mval twind_behind_total), ticks $(mval twind_ticks_total)," \
      "messages $(mval twind_messages_total), mqtt received $(mval twind_mqtt_received_total)," \
      "inbox dropped $(mval twind_inbox_dropped_total), shed $(mval twind_shed_total)"
    ((k == 2)) || sleep 2
  done
  echo "  twind.log, last 15 lines:"
  tail -n 15 "$work/twind.log" | sed 's/^/    /'
  echo "  sim.err, last 5 lines:"
  tail -n 5 "$work/sim.err" | sed 's/^/    /'
  echo "  mosquitto.log, last 10 lines:"
  tail -n 10 "$work/mosquitto.log" | sed 's/^/    /'
  if command -v gdb >/dev/null; then
    echo "  twind's threads:"
    timeout 60 gdb -p "$TWIND_PID" -batch -nx -ex 'thread apply all bt 12' 2>/dev/null |
      grep -E '^(Thread|#)' | sed 's/^/    /' || true
  fi
}

# --- 0. the broker absent at start ---------------------------------------------------------------
"$twind_bin" run -c "$work/fleet.yaml" --broker "$uri" --http "127.0.0.1:$http" >"$work/twind.log" 2>&1 &
TWIND_PID=$!
pids+=("$TWIND_PID")
wait_for 10 tried_to_connect ||
  die "twind's HTTP endpoint did not come up or twind did not try to connect; see $work/twind.log"
sleep 3
metrics_now
[[ $(mval twind_mqtt_connected) == 0 ]] || die "twind says it is connected with no broker"
absent_failures=$(mval twind_mqtt_connect_failures_total)
t=$(now)
broker_start
wait_for 20 is_connected || die "twind did not connect within 20 s of the broker appearing"
absent_connect=$(since "$t")
echo "absent at start: twind connected $absent_connect s after the broker appeared" \
  "($absent_failures failed attempts before)"

: >"$alerts_file"
"$log_bin" "$uri" chaos-alert-log "$alerts_file" 2>"$work/alert_log.err" &
log_pid=$!
pids+=("$log_pid")
wait_for 10 grep -q subscribed "$work/alert_log.err" || die "the alert subscriber did not subscribe"
"$sim_bin" --broker "$uri" --fleet "$ASSETS" --rate "$RATE" --duration 0 --client-id chaos-sim \
  >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
pids+=("$sim_pid")
state=$(timeout 10 mosquitto_sub -h 127.0.0.1 -p "$port" -t 'twin/+/state' -C 1 -W 8 2>&1 || true)
[[ $state == *'"seq":'* ]] || die "no state on twin/+/state after the broker appeared (got: $state)"
wait_for "$SETTLE" settled || die "not settled after start: $(settle_state)"
echo "absent at start: states flow, all $ASSETS assets ok; $(settle_state)"

# --- 1 and 2. kill and freeze cycles --------------------------------------------------------------
table="$work/cycles.tsv"
printf 'cycle\tkind\tdetect_s\treconnect_s\tsettle_s\talerts\treceived_distinct\treceived\trss_kb\n' >"$table"
rss_first="" rss_max=0 rss_last=0 prev_alerts=$(m twind_alerts_total)
cycle=0
# run_cycle KIND: one outage (kill or freeze), then the checks; appends a row to the table.
run_cycle() {
  local kind=$1 c0 t0 t1 detect="-" reconnect settle_s alerts rss
  cycle=$((cycle + 1))
  sleep 1.5 # > autosave_interval: the broker's file holds the subscriber's (empty) session
  c0=$(m twind_mqtt_connects_total)
  t0=$(now)
  if [[ $kind == kill ]]; then
    broker_kill
    wait_for "$OUTAGE" is_disconnected && detect=$(since "$t0")
    sleep "$(left "$OUTAGE" "$t0")"
    broker_start
  else
    kill -STOP "$BROKER_PID"
    wait_for "$FREEZE" is_disconnected && detect=$(since "$t0")
    sleep "$(left "$FREEZE" "$t0")"
    kill -CONT "$BROKER_PID"
  fi
  [[ $detect != "-" ]] || fail "cycle $cycle ($kind): twind did not notice the broker was away"
  t1=$(now)
  if wait_for 30 back_after "$c0"; then
    reconnect=$(since "$t1")
  else
    reconnect="-"
    fail "cycle $cycle ($kind): twind did not reconnect within 30 s"
  fi
  t1=$(now)
  if wait_for "$SETTLE" settled; then settle_s=$(since "$t1"); else
    # Every later cycle would start unsettled and prove nothing: the evidence, and stop.
    echo "cycle $cycle $kind: detected after $detect s, reconnected $reconnect s after the" \
      "broker came back"
    echo "FAIL: cycle $cycle ($kind): not settled within $SETTLE s: $(settle_state)"
    unsettled_evidence
    die "cycle $cycle ($kind) did not settle"
  fi
  metrics_now
  alerts=$(mval twind_alerts_total)
  rss=$(rss_kb "$TWIND_PID")
  [[ -n $rss_first ]] || rss_first=$rss
  if ((rss > rss_max)); then rss_max=$rss; fi
  rss_last=$rss
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cycle" "$kind" "$detect" "$reconnect" "$settle_s" \
    "$alerts" "$(distinct)" "$(received)" "$rss" >>"$table"
  echo "cycle $cycle $kind: detected after $detect s, reconnected $reconnect s after the broker" \
    "came back, settled $settle_s s later; alerts +$((alerts - prev_alerts)) (total $alerts," \
    "received distinct $(distinct)); RSS $rss kB"
  prev_alerts=$alerts
  for p in "$TWIND_PID:twind" "$sim_pid:twin-sim" "$log_pid:alert_log"; do
    alive "${p%%:*}" || die "${p#*:} died during cycle $cycle"
  done
}
for _ in $(seq "$KILLS"); do run_cycle kill; done
for _ in $(seq "$FREEZES"); do run_cycle freeze; done

# --- verdict -------------------------------------------------------------------------------------
wait_for "$SETTLE" settled || true
metrics_now
produced=$(mval twind_alerts_total)
got=$(distinct)
total=$(received)
lost=$((produced - got))
echo
echo "chaos: $KILLS kills + $FREEZES freezes, $ASSETS assets at $RATE Hz, $(since "$started") s"
echo "  alerts: produced $produced (twind_alerts_total), received $total, distinct $got," \
  "duplicates $((total - got)), lost $lost"
echo "  twind: connects $(mval twind_mqtt_connects_total), connect failures" \
  "$(mval twind_mqtt_connect_failures_total), mqtt dropped $(mval twind_mqtt_dropped_total)," \
  "publish failed $(mval twind_publish_failed_total)"
echo "  RSS after a cycle: first $rss_first kB, last $rss_last kB, max $rss_max kB" \
  "(growth allowed $RSS_GROWTH_KB kB)"
echo "  subscriber: $(grep -c 'session lost' "$work/alert_log.err" || true) sessions lost by the broker"
echo "  per cycle:"
column -t -s $'\t' "$table" 2>/dev/null || cat "$table"
((lost == 0)) || fail "$lost alerts produced by twind never reached the persistent subscriber"
((got <= produced)) || fail "the subscriber got $((got - produced)) distinct alerts twind did not count"
((produced >= (KILLS + FREEZES) * 2 * ASSETS)) ||
  fail "fewer alerts ($produced) than 2 x $ASSETS stale transitions per cycle"
if [[ -n $rss_first ]] && ((rss_max - rss_first > RSS_GROWTH_KB)); then
  fail "twind's RSS grew by $((rss_max - rss_first)) kB over the cycles (bound $RSS_GROWTH_KB kB)"
fi
# Each child ends on SIGTERM and is waited for, so that a sanitizer build's leak check runs at its
# exit; none may have printed a sanitizer report.
stop_checked twin-sim "$sim_pid" "$work/sim.err" || failures=$((failures + 1))
stop_checked alert_log "$log_pid" "$work/alert_log.err" || failures=$((failures + 1))
stop_checked twind "$TWIND_PID" "$work/twind.log" || failures=$((failures + 1))
keep
((failures == 0)) || { echo "chaos: $failures checks failed"; exit 1; }
echo "chaos: ok"
