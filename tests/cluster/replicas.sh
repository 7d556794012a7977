#!/usr/bin/env bash
# replicas.sh TWIND TWIN_SIM ALERT_LOG [REPO]: twind replicas sharing a fleet through a NATS
# cluster, with the real programs (label cluster): three Debian nats-server nodes on free loopback
# ports (scripts/lib/nats.sh, partitions P), three `twind run -c config/cluster.yaml --member
# replica-N --broker <the three nodes>`, twin-sim --fleet ASSETS --rate RATE with the first WEAR
# plants wearing at WEAR_AT s, and a persistent QoS 1 subscriber of twin/+/alert
# (tests/chaos/alert_log.cpp, clean_session=false) on node 1. It checks:
#   1. shared: once settled, every asset is held by exactly one replica (the assets of the
#      replicas' /state are disjoint and together the fleet), and each replica holds its share
#      within +-20 %;
#   2. wear: every wearing plant's divergence alert reaches the subscriber, and no healthy plant's;
#   3. KILLS times, a replica killed with SIGKILL: the survivors hold the whole fleet again (its
#      assets' states resume from them) within RESUME s, printed (will + hand-over + first samples
#      + a tick); each wearing plant the dead replica held is alerted again by its new holder (the
#      alert confirmed); the replica then starts again under its name and the fleet is shared by
#      three again within SETTLE s;
#   4. a node killed with SIGKILL (node 2: replica-2's, each replica being given the nodes in
#      another order): replica-2 moves to another node and the fleet is shared by three again
#      within NODE_RESUME s (printed: JetStream's new leaders take 5-8 s when the node led the
#      streams of the MQTT sessions, during which connections to the other nodes wait or fail);
#      the node restarts;
#   5. no alert lost: every asset whose divergence some replica logged as raised has a raised
#      divergence at the subscriber.
# Prints one line per step with the times measured and a summary; exit 0 pass, 1 fail, 77 skipped
# (no nats-server: scripts/setup.sh installs it). About 3 minutes.
#   tests/cluster/replicas.sh TWIND TWIN_SIM ALERT_LOG       (ctest -L cluster)
#   env: ASSETS=3000 RATE=2 WEAR=30 WEAR_AT=45 KILLS=3 RESUME=30 NODE_RESUME=90 SETTLE=60
#        KEEP=DIR
# Every process it starts is stopped by its PID; everything listens on 127.0.0.1 only.
set -euo pipefail
(($# >= 3)) || { echo "usage: $0 TWIND TWIN_SIM ALERT_LOG [REPO]" >&2; exit 2; }
twind_bin=$1 sim_bin=$2 log_bin=$3
root=$(cd "${4:-$(dirname "$0")/../..}" && pwd)
ASSETS=${ASSETS:-3000}
RATE=${RATE:-2}
WEAR=${WEAR:-30}
WEAR_AT=${WEAR_AT:-45}
KILLS=${KILLS:-3}
RESUME=${RESUME:-30}
SETTLE=${SETTLE:-60}
NODE_RESUME=${NODE_RESUME:-90}
command -v /usr/sbin/nats-server >/dev/null || { echo "SKIP: no nats-server"; exit 77; }
source "$root/scripts/lib/broker.sh"
source "$root/scripts/lib/measure.sh"
source "$root/scripts/lib/nats.sh"
init_work
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# The logs and configurations (JetStream's stores change under cp: whatever can be copied).
keep() { [[ -z ${KEEP:-} ]] || { mkdir -p "$KEEP" && cp -r "$work"/. "$KEEP/" 2>/dev/null || true; }; }
die() { echo "FAIL: $*"; keep; exit 1; }
# wait_for (measure.sh) polls every 0.2 s: each poll reads three replicas' /state.
# shellcheck disable=SC2034
WAIT_EVERY=0.2

nats_cluster_start 3 3
echo "cluster: 3 nats-server nodes, 3 partitions: $NATS_BROKERS"

declare -A http rpid
# Replica I is given the nodes starting from node I, so that the replicas spread over the nodes
# (each connects to the first node of its list that answers).
brokers_from() {
  local i=$1 k list=""
  for k in 0 1 2; do list+="${list:+,}${NATS_MQTT_URIS[$(((i - 1 + k) % 3 + 1))]}"; done
  echo "$list"
}
connects() { http_get "${http[$1]}" /metrics 2>/dev/null | awk '$1 == "twind_mqtt_connects_total" {print $2}'; }
start_replica() {
  local i=$1
  http[$i]=$(free_port)
  "$twind_bin" run -c "$root/config/cluster.yaml" --member "replica-$i" --broker "$(brokers_from "$i")" \
    --http "127.0.0.1:${http[$i]}" --http-history 0 >>"$work/replica-$i.log" 2>&1 &
  rpid[$i]=$!
  pids+=("${rpid[$i]}")
}
live=(1 2 3)
# held I: the assets replica I publishes states of (its /state), one per line, into $work/held-I.
held() {
  http_get "${http[$1]}" /state 2>/dev/null |
    python3 -c 'import json,sys
for s in json.load(sys.stdin): print(s["asset"])' >"$work/held-$1" 2>/dev/null || : >"$work/held-$1"
}
# shared [MIN_SHARE]: every asset held by exactly one live replica; with MIN_SHARE, each replica
# holds at least that fraction of an even share (and at most 2 - MIN_SHARE of it).
shared() {
  local i files=()
  for i in "${live[@]}"; do
    held "$i"
    files+=("$work/held-$i")
  done
  python3 - "$ASSETS" "${1:-0}" "${files[@]}" <<'EOF'
import sys
n, share, files = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
sets = [set(open(f).read().split()) for f in files]
union = set().union(*sets)
if sum(len(s) for s in sets) != len(union) or len(union) != n:
    sys.exit(1)
even = n / len(sets)
if share > 0 and any(not (share * even <= len(s) <= (2 - share) * even) for s in sets):
    sys.exit(1)
EOF
}
counts() {
  local i out=""
  for i in "${live[@]}"; do out+=" replica-$i $(wc -l <"$work/held-$i")"; done
  echo "${out# }"
}
# alerted FILE ID...: each asset ID has a raised divergence in the subscriber's log after line FROM
# (env FROM, default 0).
raised_since() {
  python3 - "$work/alerts.log" "${FROM:-0}" "$@" <<'EOF'
import json, sys
path, start, want = sys.argv[1], int(sys.argv[2]), set(sys.argv[3:])
seen = set()
for k, line in enumerate(open(path)):
    if k < start:
        continue
    try:
        a = json.loads(line)
    except ValueError:
        continue
    if a.get("id") == "divergence" and a.get("state") == "raised":
        seen.add(a.get("asset"))
sys.exit(0 if want <= seen else 1)
EOF
}
wearing=()
for ((k = 0; k < WEAR; k++)); do wearing+=("$(printf 'p%05d' "$k")"); done

: >"$work/alerts.log"
"$log_bin" "${NATS_MQTT_URIS[1]}" cluster-alert-log "$work/alerts.log" 2>"$work/alert_log.err" &
pids+=($!)
wait_for 30 grep -q subscribed "$work/alert_log.err" || die "the alert subscriber did not subscribe"
for i in 1 2 3; do start_replica "$i"; done
"$sim_bin" --broker "$NATS_BROKERS" --fleet "$ASSETS" --rate "$RATE" --wear-assets "$WEAR" \
  --wear-at "$WEAR_AT" --duration 0 --client-id cluster-sim >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
pids+=("$sim_pid")
sim_started=$(now)

# --- 1. shared ------------------------------------------------------------------------------------
t=$(now)
if wait_for "$SETTLE" shared 0.8; then
  echo "shared: every asset held by one replica, $(since "$t") s after twin-sim started: $(counts)"
else
  shared || true
  fail "the fleet was not shared within $SETTLE s: $(counts)"
fi

# --- 2. wear --------------------------------------------------------------------------------------
left=$(awk -v s="$WEAR_AT" -v a="$sim_started" -v b="$(now)" 'BEGIN {v = s - (b - a); print (v > 0 ? v : 0)}')
sleep "$left"
t=$(now)
if wait_for 15 raised_since "${wearing[@]}"; then
  echo "wear: all $WEAR wearing plants alerted within $(since "$t") s of the wear"
else
  fail "not every wearing plant was alerted within 15 s of the wear"
fi
false_alarms=$(python3 - "$work/alerts.log" "$WEAR" <<'EOF'
import json, sys
n = int(sys.argv[2])
bad = set()
for line in open(sys.argv[1]):
    a = json.loads(line)
    if a.get("id") == "divergence" and int(a["asset"][1:]) >= n:
        bad.add(a["asset"])
print(len(bad))
EOF
)
((false_alarms == 0)) || fail "$false_alarms healthy plants raised a divergence"

# --- 3. replicas killed ---------------------------------------------------------------------------
resume_times=()
for ((c = 1; c <= KILLS; c++)); do
  victim=$(((c - 1) % 3 + 1))
  held "$victim"
  mapfile -t theirs < <(grep -xF -f <(printf '%s\n' "${wearing[@]}") "$work/held-$victim" || true)
  FROM=$(wc -l <"$work/alerts.log")
  kill -KILL "${rpid[$victim]}"
  t=$(now)
  wait "${rpid[$victim]}" 2>/dev/null || true
  forget_pid "${rpid[$victim]}"
  live=()
  for i in 1 2 3; do ((i == victim)) || live+=("$i"); done
  if wait_for "$RESUME" shared; then
    resume_times+=("$(since "$t")")
    echo "kill $c: replica-$victim (${#theirs[@]} wearing plants); the survivors hold the fleet" \
      "after ${resume_times[-1]} s: $(counts)"
  else
    fail "kill $c: the survivors did not hold the whole fleet within $RESUME s: $(counts)"
  fi
  if ((${#theirs[@]} > 0)) && ! FROM=$FROM wait_for 15 raised_since "${theirs[@]}"; then
    fail "kill $c: the dead replica's wearing plants were not alerted again by their new holders"
  fi
  start_replica "$victim"
  live=(1 2 3)
  t=$(now)
  if wait_for "$SETTLE" shared 0.8; then
    echo "kill $c: replica-$victim back; shared by three again after $(since "$t") s: $(counts)"
  else
    fail "kill $c: not shared by three within $SETTLE s of replica-$victim's return: $(counts)"
  fi
done

# --- 4. a node killed ------------------------------------------------------------------------------
# Node 2 is replica-2's: it must move to another node, start again from nothing and take its
# share back.
before=$(connects 2)
nats_kill_node 2
t=$(now)
moved() { [[ $(connects 2) =~ ^[0-9]+$ && $(connects 2) -gt $before ]]; }
if wait_for "$NODE_RESUME" moved; then
  echo "node 2 killed: replica-2 connected to another node after $(since "$t") s"
else
  fail "replica-2 did not move to another node within $NODE_RESUME s of node 2's loss"
fi
if wait_for "$NODE_RESUME" shared 0.8; then
  echo "node 2 killed: the fleet is shared by three again after $(since "$t") s: $(counts)"
else
  fail "after node 2's loss the fleet was not shared again within $NODE_RESUME s: $(counts)"
fi
nats_restart_node 2 60 || fail "node 2 did not come back"

# --- 5. no alert lost ------------------------------------------------------------------------------
sleep 2
logged=$(cat "$work"/replica-*.log | sed -n 's/.*ALERT: divergence .*(\(p[0-9]*\)\/y).*/\1/p' | sort -u)
if [[ -n $logged ]] && ! FROM=0 raised_since $logged; then
  fail "a divergence some replica raised never reached the persistent subscriber"
fi
for i in 1 2 3; do alive "${rpid[$i]}" || fail "replica-$i died"; done
alive "$sim_pid" || fail "twin-sim died"

echo
echo "replicas: $ASSETS assets at $RATE Hz over 3 replicas and 3 nodes; replica kills: $KILLS," \
  "fleet held whole again after ${resume_times[*]:-(none)} s"
echo "  alerts at the subscriber: $(wc -l <"$work/alerts.log") transitions"
keep
if ((failures > 0)); then
  echo "replicas: $failures check(s) failed"
  exit 1
fi
echo "replicas: ok"
