#!/usr/bin/env bash
# Speed at fleet scale: latency, CPU per message, memory and drops of one digital twin running N
# assets, twind or its Python baseline (bench/python_twin.py) under the same load. For each fleet
# size N: a fresh Debian mosquitto on a free loopback port; the twin (TWIN=twind: twind with
# config/fleet.yaml, one twin per plant discovered under plant/+/...; TWIN=python: python_twin.py,
# the same semantics written in Python); twin-sim --fleet N publishing one sample per plant every
# 1/RATE s, spread evenly, the first WEAR plants wearing in the middle of the window
# (MODE=frames: one frame {ts,u,y} on plant/<id>/frame; MODE=topics: --bare, u on plant/<id>/u
# then y on plant/<id>/y as bare numbers without ts, which the twin stamps on arrival); and
# bench/fleet_probe.cpp timing the twin's states and alerts. After a warm-up, over a window of
# DURATION seconds, it samples the CPU time of the twin, the broker and twin-sim (/proc/PID/stat)
# and the twin's counters (twind: /metrics; python: the file it writes on SIGUSR1), then prints a
# Markdown table. Every process started here is stopped by its PID; the script exits 1 if one of
# them died during a run or did not exit 0 when stopped, and 2 on bad usage or when twin-sim
# does not publish what MODE says (checked on the broker before measuring).
#
#   bench/fleet.sh [N | overload:N ...]   default 1000 5000 10000; about DURATION + WARMUP + 5 s
#                                         per N and run; overload:N measures N assets over
#                                         OVERLOAD_FOR seconds instead of DURATION (for a twin that
#                                         cannot keep up: does it shed, lag, or fall over?)
#   env: TWIN=twind|python (default twind), CLIENT=threaded|driven (twind's broker.client), MODE=frames|topics (default frames), REPEAT=1 (runs
#        per N; the table then gives each figure's median), DURATION=30 (s measured), WARMUP=5
#        (s before it), OVERLOAD_FOR=60 (s measured for overload:N), WEAR=100 (wearing plants,
#        at most N), RATE=2 (Hz), BUILD=build (build directory, RelWithDebInfo), KEEP=DIR (keep
#        every run's logs there), TWIN_CPU=F (the twin may use F of one core, through a CPU
#        cgroup: an overload of the twin alone, where broker and twin-sim keep up; needs root)
#
# The caption says what ran (twin, mode, settings, REPEAT), when (date) and on what (nproc, CPU
# model, load average just before the first run). Columns:
# - msgs/s in: telemetry messages the twin received per second (frames, or u and y messages: two
#   per sample in topics mode). twind: twind_messages_total + twind_inbox_dropped_total (values
#   shed are in the first); python: messages its paho callback was handed.
# - states/s out: states the probe received per second (N x 2 expected with the 500 ms tick).
# - latencies in ms (state: arrival minus the tick's due time; alert: arrival minus the deciding
#   sample's ts, i.e. telemetry published -> alert received in frames mode, and telemetry received
#   by the twin -> alert received in topics mode, where ts is the twin's arrival stamp; each
#   wearing plant raises one, so WEAR >= 100 makes the alerts' p99 a percentile: with fewer the
#   probe gives no p99 and the cell shows "p50 / - / max (n=...)").
# - CPU in % of one core, for the twin, the broker and twin-sim.
# - us/msg: CPU time per message in microseconds, over the window, where messages = telemetry
#   messages received by the twin (msgs/s in, over the window) + messages the twin published
#   (states + alerts, from its own counters). The twin's column divides the twin's CPU time by
#   that count; the broker's divides the broker's CPU time by the same count, i.e. what it routed
#   to and from the twin (it also routes the same states on to the probe, and takes twin-sim's
#   messages in: its figure is the broker's whole cost per twin message, not a per-delivery cost).
#   The twin's fixed costs (its tick timer's wake-ups, 200 a second) are in it too, and dominate
#   at small N. /proc counts CPU in clock ticks (10 ms), and twind refreshes /metrics once per
#   tick period (500 ms, so a window's counts are good to one period's messages): short smoke
#   windows give coarse figures.
# - RSS per asset = (VmRSS at the end - VmRSS once connected, before any asset) / N, of the twin.
# - dropped = samples' messages published by twin-sim and never received by the twin (by its
#   counters 1 s after twin-sim stopped: a twin still behind then counts its backlog here) /
#   states missing in the probe's per-asset seq / telemetry dropped by twind's inbox ("-" for
#   python, which has no inbox: its backlog waits in the socket and the broker).
# - shed: twind_shed_total over the window (values shed by twind's overload rule); lag max:
#   the highest twind_lag_seconds seen sampling /metrics each second of the window; "?" when
#   /metrics has no such metric, "-" for python.
# - ticks skipped: ticks the twin did not take because its loop fell a whole period behind (over
#   the whole run).
# - alerts: wearing plants that raised an alert / WEAR, and alerts raised by healthy plants.
# With REPEAT=K > 1 each number in a cell is the median of the K runs' (same position in the
# cell); a cell whose runs do not have the same shape (a "?" in one run) lists every run's,
# separated by " ; ".
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
OVERLOAD_FOR=${OVERLOAD_FOR:-60}
WEAR=${WEAR:-100}
RATE=${RATE:-2}
TWIN=${TWIN:-twind}
MODE=${MODE:-frames}
REPEAT=${REPEAT:-1}
[[ -z ${TWIN_CPU:-} || $TWIN_CPU =~ ^(0?\.[0-9]+|1(\.0*)?)$ ]] || { echo "TWIN_CPU: a fraction of one core, e.g. 0.25" >&2; exit 2; }
CONFIG=${CONFIG:-config/fleet.yaml}
PYTHON=/usr/bin/python3 # Debian's, which sees Debian's python3-paho-mqtt and python3-numpy
usage() { echo "usage: [TWIN=twind|python] [MODE=frames|topics] [REPEAT=K] $0 [N | overload:N ...]" >&2; exit 2; }
[[ $TWIN == twind || $TWIN == python ]] || usage
[[ $MODE == frames || $MODE == topics ]] || usage
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || usage
sizes=("$@")
((${#sizes[@]})) || sizes=(1000 5000 10000)
for s in "${sizes[@]}"; do [[ $s =~ ^(overload:)?[1-9][0-9]*$ ]] || usage; done

# The Python twin's packages, from Debian, when missing (not in scripts/setup.sh: only this
# benchmark needs them).
install_python_deps() {
  local p missing=()
  for p in python3 python3-paho-mqtt python3-numpy; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  echo "fleet.sh: installing ${missing[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

scripts/setup.sh >/dev/null
[[ $TWIN == twind ]] || install_python_deps
if [[ ! -f $BUILD/build.ninja ]]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" -j "$(nproc)" --target twind twin-sim twind_fleet_probe >/dev/null
source scripts/lib/broker.sh
source scripts/lib/measure.sh
init_work
# CLIENT=threaded|driven: twind's broker.client, set in a copy of the configuration.
if [[ -n ${CLIENT:-} ]]; then
  sed "s/^broker:\$/broker:\n  client: $CLIENT/" "$CONFIG" >"$work/config-$CLIENT.yaml"
  CONFIG="$work/config-$CLIENT.yaml"
fi
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
# per_msg CPU_TICKS MESSAGES: microseconds of CPU per message, or "?".
per_msg() {
  if [[ "$1 $2" == *"?"* || $2 == 0 ]]; then echo "?"; else calc "$1 / $hz * 1e6 / $2" "%.1f"; fi
}
# max_of A B: the larger number, "?" counting as nothing.
max_of() {
  if [[ $1 == "?" ]]; then echo "$2"; elif [[ $2 == "?" ]]; then echo "$1"; else
    awk -v a="$1" -v b="$2" 'BEGIN {print (b + 0 > a + 0) ? b : a}'; fi
}
# gauge NAME FILE: the value of one sample of NAME in a /metrics dump, or "?".
gauge() {
  local v
  v=$(awk -v n="$1" '$1 == n || index($1, n "{") == 1 {print $NF; exit}' "$2")
  echo "${v:-?}"
}

# The twin's counters, the same for both twins: snapshot FILE writes them (twind: /metrics;
# python: its SIGUSR1 dump), then received / published / skipped FILE read them.
snapshot() {
  if [[ $TWIN == twind ]]; then
    http_get "$http_port" /metrics >"$1" || : >"$1"
    return 0
  fi
  rm -f "$stats"
  kill -USR1 "$TWIN_PID" 2>/dev/null || { : >"$1"; return 0; }
  for _ in $(seq 100); do [[ -f $stats ]] && break; sleep 0.02; done
  if [[ -f $stats ]]; then cp "$stats" "$1"; else : >"$1"; fi
}
received() {
  if [[ $TWIN == python ]]; then metric python_twin_messages_total "$1"; return; fi
  # (twind_shed_total counts values dropped after their message was counted: not added here.)
  calc "$(metric twind_messages_total "$1") + $(metric twind_inbox_dropped_total "$1")" "%.0f"
}
published() {
  local p=twind
  [[ $TWIN == twind ]] || p=python_twin
  calc "$(metric ${p}_states_total "$1") + $(metric ${p}_alerts_total "$1")" "%.0f"
}
skipped() {
  if [[ $TWIN == twind ]]; then metric twind_ticks_skipped_total "$1"; else metric python_twin_ticks_skipped_total "$1"; fi
}

# start_twin DIR: the twin under test against the broker; sets TWIN_PID (in `pids`), returns
# once it is connected and subscribed (non-zero if it is not within 10 s).
start_twin() {
  if [[ $TWIN == twind ]]; then
    start_twind_http "$BUILD" "$CONFIG" "127.0.0.1:$http_port" "$1/twin.log"
    TWIN_PID=$TWIND_PID
    return
  fi
  "$PYTHON" bench/python_twin.py --host 127.0.0.1 --port "$BROKER_PORT" --client-id python-twin \
    --stats "$stats" >"$1/twin.log" 2>&1 &
  TWIN_PID=$!
  pids+=("$TWIN_PID")
  for _ in $(seq 200); do
    grep -q "subscribed" "$1/twin.log" && return 0
    alive "$TWIN_PID" || break
    sleep 0.05
  done
  echo "python_twin did not connect; see $1/twin.log" >&2
  return 1
}

# check_mode DIR: one telemetry message off the broker shows that twin-sim publishes what MODE
# says (a twin-sim without a bare fleet mode would ignore --bare and publish frames).
check_mode() {
  local seen want='^plant/p[0-9]+/frame \{'
  [[ $MODE == frames ]] || want='^plant/p[0-9]+/u -?[0-9]'
  seen=$(mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t 'plant/+/frame' -t 'plant/+/u' \
    -C 1 -W 3 -v 2>/dev/null || true)
  [[ $seen =~ $want ]] && return 0
  echo "MODE=$MODE: twin-sim published \"${seen:-nothing within 3 s}\"" >&2
  return 1
}

rows=()
details=()
failed=0

run_size() {
  local spec=$1 run=$2 n=${1#overload:} window_s=$DURATION
  [[ $spec != overload:* ]] || window_s=$OVERLOAD_FOR
  local dir="$work/n$n-$run" died="" wear=$((WEAR < n ? WEAR : n))
  mkdir -p "$dir"
  stats="$dir/stats.prom"
  start_broker "$dir"
  http_port=$(free_port)
  start_twin "$dir" || died+=" $TWIN(start)"
  if [[ -n ${TWIN_CPU:-} ]]; then limit_cpu "$TWIN_PID" "$TWIN_CPU" || exit 2; fi
  sleep 1
  local rss0
  rss0=$(rss_kb "$TWIN_PID" || echo "?")
  local wear_at sim_args=()
  wear_at=$(calc "$WARMUP + 1 + $window_s / 2" "%.3f")
  [[ $MODE == frames ]] || sim_args+=(--bare)
  "$BUILD/twin-sim" --broker "$BROKER_URI" --fleet "$n" --rate "$RATE" --wear-at "$wear_at" \
    --wear-assets "$wear" --duration 0 --client-id "twin-sim-fleet" "${sim_args[@]}" \
    >"$dir/sim.out" 2>"$dir/sim.err" &
  local sim_pid=$! sim_started
  sim_started=$(now)
  pids+=("$sim_pid")
  # A twin-sim that cannot do MODE would measure the other mode: stop here (the exit trap stops
  # every process started).
  check_mode "$dir" || { echo "fleet.sh: this twin-sim cannot do MODE=$MODE" >&2; exit 2; }
  # The warm-up counts from twin-sim's start, as its --wear-at does.
  sleep "$(awk -v w="$WARMUP" -v a="$sim_started" -v b="$(now)" 'BEGIN {d = w - (b - a); print (d > 0 ? d : 0)}')"

  "$BUILD/bench/twind_fleet_probe" "$BROKER_URI" "$window_s" "$n" "$wear" >"$dir/probe.json" \
    2>"$dir/probe.err" &
  local probe_pid=$!
  pids+=("$probe_pid")
  for _ in $(seq 200); do
    grep -q "subscribed" "$dir/probe.err" && break
    alive "$probe_pid" || break
    sleep 0.05
  done
  local t0 c0_twin c0_broker c0_sim c0_probe c1_probe="?"
  t0=$(now)
  c0_twin=$(cpu_ticks "$TWIN_PID" || echo "?") c0_broker=$(cpu_ticks "$BROKER_PID")
  c0_sim=$(cpu_ticks "$sim_pid" || echo "?") c0_probe=$(cpu_ticks "$probe_pid" || echo "?")
  snapshot "$dir/metrics0.txt"

  # twind_lag_seconds, each second of the window, if this twind has it.
  local lag="?" sample_lag=0 next_lag
  if [[ $TWIN == twind && $(gauge twind_lag_seconds "$dir/metrics0.txt") != "?" ]]; then
    sample_lag=1
    lag=$(gauge twind_lag_seconds "$dir/metrics0.txt")
  fi
  next_lag=$(calc "$t0 + 1" "%.3f")
  while alive "$probe_pid"; do
    c1_probe=$(cpu_ticks "$probe_pid" 2>/dev/null || echo "$c1_probe")
    for p in "$TWIN_PID:$TWIN" "$BROKER_PID:mosquitto" "$sim_pid:twin-sim"; do
      alive "${p%%:*}" || { [[ $died == *"${p#*:}"* ]] || died+=" ${p#*:}"; }
    done
    if ((sample_lag)) && awk -v a="$(now)" -v b="$next_lag" 'BEGIN {exit !(a >= b)}'; then
      http_get "$http_port" /metrics >"$dir/lag.txt" 2>/dev/null || : >"$dir/lag.txt"
      lag=$(max_of "$lag" "$(gauge twind_lag_seconds "$dir/lag.txt")")
      next_lag=$(calc "$next_lag + 1" "%.3f")
    fi
    sleep 0.1
  done
  local probe_rc=0
  wait "$probe_pid" || probe_rc=$?
  forget_pid "$probe_pid"
  [[ $probe_rc -eq 0 ]] || died+=" probe(rc=$probe_rc)"

  local t1 c1_twin="?" c1_broker="?" c1_sim="?" rss1="?"
  t1=$(now)
  alive "$TWIN_PID" && c1_twin=$(cpu_ticks "$TWIN_PID") && rss1=$(rss_kb "$TWIN_PID")
  alive "$BROKER_PID" && c1_broker=$(cpu_ticks "$BROKER_PID")
  alive "$sim_pid" && c1_sim=$(cpu_ticks "$sim_pid")
  snapshot "$dir/metrics1.txt"

  # twin-sim prints its summary on SIGTERM; then the twin gets a second to take what is in flight.
  local sim_rc=0
  stop_pid "$sim_pid" || sim_rc=$?
  [[ $sim_rc -eq 0 ]] || died+=" twin-sim(rc=$sim_rc)"
  sleep 1
  snapshot "$dir/metrics2.txt"
  alive "$TWIN_PID" || died+=" $TWIN"
  local twin_rc=0
  stop_pid "$TWIN_PID" || twin_rc=$?
  [[ $twin_rc -eq 0 ]] || died+=" $TWIN(rc=$twin_rc when stopped)"
  stop_pid "$BROKER_PID" || true
  [[ -z ${KEEP:-} ]] || { mkdir -p "$KEEP" && cp -r "$dir" "$KEEP/"; }

  local window published_sim received_end missing inbox_drops="-" shed="-" lag_cell="-"
  window=$(calc "$t1 - $t0" "%.3f")
  published_sim=$(summary published "$dir/sim.err") # messages: two per sample in topics mode
  received_end=$(received "$dir/metrics2.txt")
  missing=$(jnum states_missing "$dir/probe.json")
  if [[ $TWIN == twind ]]; then
    inbox_drops=$(metric twind_inbox_dropped_total "$dir/metrics2.txt")
    shed=$(diff_or_q "$(metric twind_shed_total "$dir/metrics1.txt")" \
      "$(metric twind_shed_total "$dir/metrics0.txt")")
    lag_cell=$(calc "$lag" "%.3f")
  fi
  local in_msgs out_msgs msgs msgs_in
  in_msgs=$(diff_or_q "$(received "$dir/metrics1.txt")" "$(received "$dir/metrics0.txt")")
  out_msgs=$(diff_or_q "$(published "$dir/metrics1.txt")" "$(published "$dir/metrics0.txt")")
  msgs=$(calc "$in_msgs + $out_msgs" "%.0f")
  msgs_in=$(calc "$in_msgs / $window" "%.0f")
  local d_twin d_broker cpu_twin cpu_broker cpu_sim rss_per_asset
  d_twin=$(calc "$c1_twin - $c0_twin" "%.0f")
  d_broker=$(calc "$c1_broker - $c0_broker" "%.0f")
  cpu_twin=$(calc "$d_twin / $hz / $window * 100" "%.0f")
  cpu_broker=$(calc "$d_broker / $hz / $window * 100" "%.0f")
  cpu_sim=$(calc "($c1_sim - $c0_sim) / $hz / $window * 100" "%.0f")
  rss_per_asset=$(calc "($rss1 - $rss0) * 1024 / $n" "%.0f")
  local label=$n
  [[ $spec != overload:* ]] || label="$n (overload)"
  rows+=("$spec|$run|| $TWIN, $MODE | $label | $msgs_in | $(calc "$(jnum states_per_s "$dir/probe.json")" "%.0f") |\
 $(jlat state_latency_ms "$dir/probe.json") | $(jlat alert_latency_ms "$dir/probe.json") |\
 $cpu_twin | $cpu_broker | $cpu_sim | $(per_msg "$d_twin" "$msgs") | $(per_msg "$d_broker" "$msgs") |\
 $rss_per_asset | $(diff_or_q "$published_sim" "$received_end") / $missing / $inbox_drops |\
 $shed | $lag_cell | $(skipped "$dir/metrics2.txt") |\
 $(jnum wearing_assets_alerted "$dir/probe.json")/$wear, $(jnum alerts_raised_false "$dir/probe.json") |")
  details+=("N=$spec run $run: window ${window} s; messages over it: $in_msgs in + $out_msgs out;\
 probe CPU (until its last 0.1 s) $(calc "($c1_probe - $c0_probe) / $hz / $window * 100" "%.0f") %;\
 twin-sim: $(grep -o "fleet summary:.*" "$dir/sim.err" || echo "no summary")")
  if [[ $TWIN == twind ]]; then
    details+=("  twind: messages $(metric twind_messages_total "$dir/metrics2.txt"), mqtt received $(metric twind_mqtt_received_total "$dir/metrics2.txt"),\
 rejected $(metric twind_rejected_total "$dir/metrics2.txt"), inbox dropped $inbox_drops,\
 shed $(metric twind_shed_total "$dir/metrics2.txt"),\
 publish failed $(metric twind_publish_failed_total "$dir/metrics2.txt"),\
 states $(metric twind_states_total "$dir/metrics2.txt"), alerts $(metric twind_alerts_total "$dir/metrics2.txt");\
 RSS ${rss0} kB -> ${rss1} kB")
  else
    details+=("  python_twin: messages $(metric python_twin_messages_total "$dir/metrics2.txt"),\
 rejected $(metric python_twin_rejected_total "$dir/metrics2.txt"),\
 states $(metric python_twin_states_total "$dir/metrics2.txt"), alerts $(metric python_twin_alerts_total "$dir/metrics2.txt");\
 RSS ${rss0} kB -> ${rss1} kB; $(grep -o "python_twin: stopped.*" "$dir/twin.log" || echo "no summary")")
  fi
  details+=("  probe: $(cat "$dir/probe.json" 2>/dev/null || echo "no output")")
  if [[ -n $died ]]; then
    failed=1
    details+=("  DIED:$died (logs: $TWIN $(tail -n 3 "$dir/twin.log" | tr '\n' ' '); twin-sim $(tail -n 2 "$dir/sim.err" | tr '\n' ' '))")
  fi
}

# median_row: the rows on stdin (one run each, cells between "|") as one row, each number the
# median of the runs' numbers at the same place in the cell; a cell whose shape differs between
# runs lists them all.
median_row() {
  awk -F'|' '
    function trim(s) { gsub(/^ +| +$/, "", s); return s }
    { rows++; cols = NF; for (i = 2; i < NF; i++) cell[rows, i] = $i }
    END {
      out = "|"
      for (i = 2; i < cols; i++) {
        same = 1
        for (r = 1; r <= rows; r++) {
          s = cell[r, i]; shape = ""; k = 0
          while (match(s, /-?[0-9]+(\.[0-9]+)?/)) {
            shape = shape substr(s, 1, RSTART - 1) "#"
            num[r, ++k] = substr(s, RSTART, RLENGTH)
            s = substr(s, RSTART + RLENGTH)
          }
          shape = shape s
          if (r == 1) { first = shape; count = k } else if (shape != first) same = 0
        }
        if (!same) {
          joined = trim(cell[1, i])
          for (r = 2; r <= rows; r++) joined = joined " ; " trim(cell[r, i])
          out = out " " joined " |"
          continue
        }
        text = first; res = ""
        for (k = 1; k <= count; k++) {
          decimals = 0
          for (r = 1; r <= rows; r++) {
            v[r] = num[r, k] + 0
            d = index(num[r, k], ".") ? length(num[r, k]) - index(num[r, k], ".") : 0
            if (d > decimals) decimals = d
          }
          for (a = 2; a <= rows; a++) { x = v[a]; for (b = a - 1; b >= 1 && v[b] > x; b--) v[b + 1] = v[b]; v[b + 1] = x }
          m = rows % 2 ? v[(rows + 1) / 2] : (v[rows / 2] + v[rows / 2 + 1]) / 2
          p = index(text, "#")
          res = res substr(text, 1, p - 1) sprintf("%." decimals "f", m)
          text = substr(text, p + 1)
        }
        out = out res text "|"
      }
      print out
    }'
}

cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
twin_version=$("$BUILD/twind" --version)
[[ $TWIN == twind ]] || twin_version="python_twin.py (Python $("$PYTHON" -c 'import platform; print(platform.python_version())'),\
 paho-mqtt $("$PYTHON" -c 'import paho.mqtt; print(paho.mqtt.__version__)'), numpy $("$PYTHON" -c 'import numpy; print(numpy.__version__)'))"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date '+%Y-%m-%d %H:%M %Z')
for spec in "${sizes[@]}"; do
  for run in $(seq "$REPEAT"); do
    echo "N=${spec} run $run/$REPEAT ..." >&2
    run_size "$spec" "$run"
  done
done
echo "bench/fleet.sh: TWIN=$TWIN ($twin_version), MODE=$MODE, $CONFIG, RATE=$RATE Hz, WARMUP=$WARMUP s,\
 DURATION=$DURATION s (overload: $OVERLOAD_FOR s), WEAR=$WEAR${TWIN_CPU:+, TWIN_CPU=$TWIN_CPU of a core};\
 $( ((REPEAT > 1)) && echo "each figure the median of $REPEAT runs" || echo "one run per row")"
echo "Measured $started on $(nproc) CPUs (nproc), $cpu_model; load average at the start $load_start."
echo
echo "| twin, mode | N | msgs/s in | states/s out | state latency p50 / p99 / max (ms) |\
 alert latency p50 / p99 / max (ms) | twin CPU % | broker CPU % | twin-sim CPU % |\
 twin us/msg | broker us/msg | RSS per asset (B) | dropped: sim->twin / states missing / inbox |\
 shed | lag max (s) | ticks skipped | alerts: wearing raised, false |"
echo "|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|"
for spec in "${sizes[@]}"; do
  printf '%s\n' "${rows[@]}" | awk -F'|' -v s="$spec" '$1 == s' | cut -d'|' -f3- | median_row
done
echo
printf '%s\n' "${details[@]}"
exit "$failed"
