#!/usr/bin/env bash
# Replicas on a NATS cluster, measured: the same fleet twinned by 1, 2 and 3 twind replicas, and
# what each costs. Three Debian nats-server nodes on free loopback ports (scripts/lib/nats.sh) with
# P partitions; twin-sim --fleet N --rate RATE on the three nodes; bench/fleet_probe.cpp on node 1
# timing every asset's state. For R = each of REPLICAS: R replicas (`twind run -c
# config/cluster.yaml` with cluster.partitions P, --member replica-I, the nodes in another order
# each), until every asset is held by exactly one of them (their /state, disjoint, the fleet
# together); then, over DURATION s, the CPU of each replica and of each node (/proc/PID/stat),
# states received and missing, and state latency (arrival at the probe minus the tick's due time:
# twin-sim -> node -> replica -> node -> node 1 -> probe). The replicas stop, and the next R starts
# from none. Prints a Markdown table and CPU per 1,000 assets (twind: all replicas; nats-server:
# all nodes).
#
#   bench/cluster.sh                   about (SETTLE + DURATION + 10 s) per R
#   env: N=3000 RATE=2 P=12 REPLICAS="1 2 3" DURATION=30 (s measured) BUILD=build KEEP=DIR
#
# Every process started here is stopped by its PID; everything listens on 127.0.0.1 only. The
# machine's other load shows in the figures: run it alone.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-3000}
RATE=${RATE:-2}
P=${P:-12}
REPLICAS=${REPLICAS:-1 2 3}
DURATION=${DURATION:-30}
SETTLE=${SETTLE:-90}
BUILD=${BUILD:-build}
TWIND=$BUILD/twind SIM=$BUILD/twin-sim PROBE=$BUILD/bench/twind_fleet_probe
for f in "$TWIND" "$SIM" "$PROBE"; do
  [[ -x $f ]] || { echo "cluster bench: $f missing; build it first" >&2; exit 2; }
done
command -v /usr/sbin/nats-server >/dev/null || { echo "cluster bench: no nats-server (scripts/setup.sh)" >&2; exit 2; }
source scripts/lib/broker.sh
source scripts/lib/measure.sh
source scripts/lib/nats.sh
init_work
keep() { [[ -z ${KEEP:-} ]] || { mkdir -p "$KEEP" && cp -r "$work"/. "$KEEP/" 2>/dev/null || true; }; }

nats_cluster_start 3 "$P"
sed "s/^  partitions: 3 /  partitions: $P /" config/cluster.yaml >"$work/cluster.yaml"
grep -q "^  partitions: $P " "$work/cluster.yaml" || { echo "cluster bench: could not set partitions" >&2; exit 2; }

"$SIM" --broker "$NATS_BROKERS" --fleet "$N" --rate "$RATE" --duration 0 \
  --client-id bench-sim >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
pids+=("$sim_pid")

declare -A http rpid
brokers_from() {
  local i=$1 k list=""
  for k in 0 1 2; do list+="${list:+,}${NATS_MQTT_URIS[$(((i - 1 + k) % 3 + 1))]}"; done
  echo "$list"
}
# shared R: every asset held by exactly one of replicas 1..R.
shared() {
  local i
  for ((i = 1; i <= $1; i++)); do
    http_get "${http[$i]}" /state 2>/dev/null |
      python3 -c 'import json,sys
for s in json.load(sys.stdin): print(s["asset"])' >"$work/held-$i" 2>/dev/null || : >"$work/held-$i"
  done
  python3 - "$N" "$work"/held-[1-"$1"] <<'EOF'
import sys
n, sets = int(sys.argv[1]), [set(open(f).read().split()) for f in sys.argv[2:]]
union = set().union(*sets)
sys.exit(0 if sum(map(len, sets)) == len(union) == n else 1)
EOF
}
ticks_of() { cpu_ticks "$1" 2>/dev/null || echo 0; }

rows=()
per_k=()
for R in $REPLICAS; do
  for ((i = 1; i <= R; i++)); do
    http[$i]=$(free_port)
    "$TWIND" run -c "$work/cluster.yaml" --member "replica-$i" --broker "$(brokers_from "$i")" \
      --http "127.0.0.1:${http[$i]}" --http-history 0 >"$work/r$R-replica-$i.log" 2>&1 &
    rpid[$i]=$!
    pids+=("${rpid[$i]}")
  done
  t=$(now)
  WAIT_EVERY=0.5 wait_for "$SETTLE" shared "$R" || { echo "cluster bench: $R replica(s) did not share the fleet within $SETTLE s" >&2; keep; exit 1; }
  settled=$(since "$t")
  sleep 3
  "$PROBE" "${NATS_MQTT_URIS[1]}" "$DURATION" "$N" 0 >"$work/r$R-probe.jsonl" 2>"$work/r$R-probe.err" &
  probe=$!
  pids+=("$probe")
  declare -A r0 n0
  for ((i = 1; i <= R; i++)); do r0[$i]=$(ticks_of "${rpid[$i]}"); done
  for i in 1 2 3; do n0[$i]=$(ticks_of "${NATS_PIDS[$i]}"); done
  t0=$(now)
  wait "$probe" || { echo "cluster bench: the probe failed: $(tail -2 "$work/r$R-probe.err")" >&2; keep; exit 1; }
  forget_pid "$probe"
  t1=$(now)
  hz=$(getconf CLK_TCK)
  pct() { awk -v a="$1" -v b="$2" -v hz="$hz" -v x="$t0" -v y="$t1" 'BEGIN {printf "%.1f", (b - a) / hz / (y - x) * 100}'; }
  each="" total=0
  for ((i = 1; i <= R; i++)); do
    c=$(pct "${r0[$i]}" "$(ticks_of "${rpid[$i]}")")
    each+="${each:+ / }$c"
    total=$(awk -v a="$total" -v b="$c" 'BEGIN {print a + b}')
  done
  nodes="" ntotal=0
  for i in 1 2 3; do
    c=$(pct "${n0[$i]}" "$(ticks_of "${NATS_PIDS[$i]}")")
    nodes+="${nodes:+ / }$c"
    ntotal=$(awk -v a="$ntotal" -v b="$c" 'BEGIN {print a + b}')
  done
  line=$(tail -n 1 "$work/r$R-probe.jsonl")
  printf '%s\n' "$line" >"$work/r$R-window.json"
  states=$(jnum states "$work/r$R-window.json")
  missing=$(jnum states_missing "$work/r$R-window.json")
  rows+=("| $R | $settled | $each | $total | $nodes | $ntotal | $(awk -v s="$states" -v d="$DURATION" 'BEGIN {printf "%.0f", s / d}') | $missing | $(jlat state_latency_ms "$work/r$R-window.json") |")
  per_k+=("$R replica(s): twind $(awk -v c="$total" -v n="$N" 'BEGIN {printf "%.2f", c / (n / 1000)}') %, nats-server $(awk -v c="$ntotal" -v n="$N" 'BEGIN {printf "%.2f", c / (n / 1000)}') % of a core per 1,000 assets")
  for ((i = 1; i <= R; i++)); do
    kill -TERM "${rpid[$i]}" 2>/dev/null || true
    wait "${rpid[$i]}" 2>/dev/null || true
    forget_pid "${rpid[$i]}"
  done
  sleep 2
done

echo
echo "Replicas on a 3-node NATS cluster, $N assets at $RATE Hz, $P partitions, $DURATION s windows;" \
  "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $("$TWIND" --version)"
echo
echo "| replicas | shared after (s) | CPU per replica (%) | twind CPU (%) | CPU per node (%) | nats-server CPU (%) | states/s | states missing | state p50 / p99 / max (ms) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
echo
printf '%s\n' "${per_k[@]}"
keep
