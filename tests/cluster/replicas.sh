#!/usr/bin/env bash
# replicas.sh TWIND TWIN_SIM ALERT_LOG [REPO]: twind replicas sharing a fleet through a NATS
# cluster, with the real programs (label cluster): three Debian nats-server nodes on free loopback
# ports (scripts/lib/nats.sh, partitions P), three `twind run -c config/cluster.yaml --member
# replica-N --broker <the three nodes>`, twin-sim --fleet ASSETS --rate RATE with the first WEAR
# plants wearing at WEAR_AT s, INJECT healthy plants (the last ones) each given an outlier y every
# second (raised, then cleared by the plant's next frame: at any moment some of them are raised,
# so that every hand-over carries raised alerts whose fault has gone), and a persistent QoS 1
# subscriber of twin/+/alert (tests/chaos/alert_log.cpp, clean_session=false) on node 1. It
# checks:
#   1. shared: once settled, every asset is held by exactly one replica (the assets of the
#      replicas' /state are disjoint and together the fleet), and each replica holds its share
#      within +-20 %;
#   2. wear: every wearing plant's divergence alert reaches the subscriber, and no healthy plant's;
#   3. KILLS times, a replica killed with SIGKILL: the survivors hold the whole fleet again (its
#      assets' states resume from them) within RESUME s, printed (will + hand-over + first samples
#      + a tick, as the test's polls of three replicas' /state see it; printed too, from the
#      survivors' logs: when they saw the will, and when they had made the last of its twins);
#      each wearing plant the dead replica held has its alert confirmed by its new holder
#      within 30 s (raised again, handed_over, under the same alert_id: a twin started from
#      the measurements agrees with a worn plant until its input moves), or, when the dead
#      replica had cleared it (a worn plant's residual dips under clear_threshold now and then),
#      raised again under any id; the replica then starts again
#      under its name and the fleet is shared by three again within SETTLE s;
#   4. a machine repaired while its replica dies: repair1 (a closed-loop seed plant, worn since
#      20 s in, its divergence raised) stops, is found stale by its replica, which is then killed;
#      the plant starts again healthy: its new holder clears both alerts it was handed (the stale
#      one by the first sample, the divergence after cluster.handover_settle of agreement), within
#      30 s, under their ids (handed_over); printed;
#   5. none lost, none stuck, by alert_id, across the replica kills (the injector stopped, after
#      3 s): every id the subscriber saw cleared it saw raised, and the last message of every id
#      it saw is `cleared` but for one id per wearing plant (its fault is there for good); prints
#      how many alerts the hand-overs settled (confirmed, cleared);
#   6. a node killed with SIGKILL (node 2: replica-2's, each replica being given the nodes in
#      another order): replica-2 moves to another node and the fleet is shared by three again
#      within NODE_RESUME s (printed: JetStream's new leaders take 5-8 s when the node led the
#      streams of the MQTT sessions, during which connections to the other nodes wait or fail);
#      the node restarts; the outliers flow throughout;
#   7. no alert lost: every asset whose divergence some replica logged as raised has a raised
#      divergence at the subscriber; and, 15 s after the injector stops, none lost or stuck by
#      alert_id as in 5 (while JetStream elects new leaders nats-server may serve an older
#      retained record and drop QoS 1 messages it acknowledged: the replicas say those again).
# Prints one line per step with the times measured and a summary; exit 0 pass, 1 fail, 77 skipped
# (no nats-server: scripts/setup.sh installs it). About 5 minutes on two cores.
#   tests/cluster/replicas.sh TWIND TWIN_SIM ALERT_LOG       (ctest -L cluster)
#   env: ASSETS=3000 RATE=2 WEAR=30 WEAR_AT=45 INJECT=10 KILLS=10 RESUME=30 NODE_RESUME=90
#        SETTLE=60 KEEP=DIR
# Every process it starts is stopped by its PID; everything listens on 127.0.0.1 only.
set -euo pipefail
(($# >= 3)) || { echo "usage: $0 TWIND TWIN_SIM ALERT_LOG [REPO]" >&2; exit 2; }
twind_bin=$1 sim_bin=$2 log_bin=$3
root=$(cd "${4:-$(dirname "$0")/../..}" && pwd)
ASSETS=${ASSETS:-3000}
RATE=${RATE:-2}
WEAR=${WEAR:-30}
WEAR_AT=${WEAR_AT:-45}
INJECT=${INJECT:-10}
KILLS=${KILLS:-10}
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
# The logs and configurations (JetStream's stores change under cp: whatever can be copied): to
# KEEP, or after a failed check to test-artifacts/ beside twind's binary (build/test-artifacts/),
# so that a failure under ctest or CI leaves its evidence.
keep() {
  local dir=${KEEP:-}
  if [[ -z $dir ]] && ((failures > 0)); then
    dir="$(cd "$(dirname "$twind_bin")" && pwd)/test-artifacts/replicas-$(date -u +%Y%m%dT%H%M%SZ)"
  fi
  [[ -n $dir ]] || return 0
  mkdir -p "$dir" && cp -r "$work"/. "$dir/" 2>/dev/null || true
  ((failures == 0)) || echo "replicas: the run's logs are kept in $dir"
}
die() { echo "FAIL: $*"; failures=$((failures + 1)); keep; exit 1; }
# stuck_evidence: for the first ids ids() found lost or stuck, what each replica logged of the
# asset from 2 s before the alert was raised to 10 s after; the replicas' connections and delivery
# checks; the nodes' last warnings and errors (but their attempts to reach a dead node's route).
stuck_evidence() {
  local id a ms from to i
  for id in $(sed -n 's#^[^:]*: \(p[0-9]*/[^ ]*\)$#\1#p' "$work/ids.txt" | head -3); do
    a=${id%%/*} ms=${id##*/}
    [[ $ms =~ ^[0-9]+$ ]] || continue
    from=$(date -u -d "@$((ms / 1000 - 2))" +%FT%T) to=$(date -u -d "@$((ms / 1000 + 10))" +%FT%T)
    echo "-- $id: what the replicas logged of $a from $from to $to (UTC):"
    for i in 1 2 3; do
      grep -hw "$a" "$work/replica-$i.log" | awk -v f="$from" -v t="$to" '$1 >= f && $1 <= t' |
        head -12 | sed "s/^/replica-$i: /"
    done
  done
  echo "-- the replicas' connections and delivery checks (the last of each):"
  for i in 1 2 3; do
    grep -h "lost the broker\|connected to the broker\|once more\|come back\|records" \
      "$work/replica-$i.log" | tail -6 | sed "s/^/replica-$i: /"
  done
  echo "-- the nodes' last warnings and errors:"
  grep -rh "\[WRN\]\|\[ERR\]" "$work/nats" 2>/dev/null | grep -v "connect to route" |
    sort -k2,3 | tail -12 || true
}
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
# held I: the assets replica I publishes states of, into $work/held-I (replica_assets).
held() { replica_assets "${http[$1]}" "$work/held-$1"; }
# shared [MIN_SHARE]: the fleet split between the live replicas (fleet_shared).
shared() { fleet_shared "$ASSETS" "$@"; }
counts() { fleet_counts; }
# raised_since ID...: each asset ID has a raised divergence in the subscriber's log after line FROM
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
# taken_over ASSET...: each ASSET's divergence, raised when its replica was killed (the log's first
# FROM lines), is confirmed under its id (handed_over) by the new holder. A worn plant's
# divergence also clears now and then (its residual dips under clear_threshold): one the dead
# replica cleared (a clearing without handed_over after FROM: it was on its way when the replica
# died) or that was cleared by then must be raised again, under any id.
taken_over() {
  python3 - "$work/alerts.log" "${FROM:-0}" "$@" <<'EOF'
import json, sys
path, start, want = sys.argv[1], int(sys.argv[2]), set(sys.argv[3:])
open_id, confirmed, cleared_late, raised_after = {}, set(), set(), set()
for k, line in enumerate(open(path)):
    try:
        a = json.loads(line)
    except ValueError:
        continue
    asset = a.get("asset")
    if asset not in want or a.get("id") != "divergence":
        continue
    i, raised = a.get("alert_id"), a.get("state") == "raised"
    if k < start:
        open_id[asset] = i if raised else None
    elif raised:
        raised_after.add(asset)
        if a.get("handed_over") and i == open_id.get(asset):
            confirmed.add(asset)
    elif not a.get("handed_over") and i == open_id.get(asset):
        cleared_late.add(asset)
ok = all(w in confirmed or ((open_id.get(w) is None or w in cleared_late) and w in raised_after)
         for w in want)
sys.exit(0 if ok else 1)
EOF
}
# ids [CHECK]: the subscriber's alerts by alert_id (into $work/ids.txt, the summary last): with
# CHECK=1, 1 when an id was cleared without being seen raised, or is still raised and is not the
# one of a wearing plant.
ids() {
  python3 - "$work/alerts.log" "$WEAR" >"$work/ids.txt" <<'EOF'
import json, sys
n = int(sys.argv[2])
last, raised, handed = {}, set(), {"raised": 0, "cleared": 0}
for line in open(sys.argv[1]):
    a = json.loads(line)
    i = a.get("alert_id")
    if i is None:
        print("an alert without alert_id:", line.strip()); sys.exit(1)
    last[i] = a
    if a["state"] == "raised":
        raised.add(i)
    if a.get("handed_over"):
        handed[a["state"]] += 1
bad = 0
for i, a in last.items():
    if i not in raised:
        print("cleared, never seen raised (a raise lost):", i); bad += 1
    wearing = a["asset"][0] == "p" and int(a["asset"][1:]) < n
    if a["state"] == "raised" and not (a["id"] == "divergence" and wearing):
        print("raised and never cleared:", i); bad += 1
open_wear = {}
for i, a in last.items():
    if a["state"] == "raised":
        open_wear.setdefault(a["asset"], []).append(i)
for asset, ids in open_wear.items():
    if len(ids) > 1:
        print("more than one alert raised on", asset, ids); bad += 1
print(f"{len(last)} alert ids, {len(open_wear)} raised at the end (the wearing plants); "
      f"hand-overs confirmed {handed['raised']} and cleared {handed['cleared']}")
sys.exit(1 if bad else 0)
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
# repair1: one closed-loop seed plant (50 Hz frames) that wears 20 s in; stopped and started
# again healthy in step 4 (a machine repaired while its replica dies).
start_repair() {
  "$sim_bin" --broker "$NATS_BROKERS" --frame-topic plant/repair1/frame --duration 0 \
    --wear-at "$1" --client-id "repair-$2" >>"$work/repair.out" 2>>"$work/repair.err" &
  repair_pid=$!
  pids+=("$repair_pid")
}
start_repair 20 worn

# start_plant_outliers PORT ASSETS COUNT RATE: about every second, an outlier y (50, far past any
# threshold) for each of the last COUNT plants of a fleet of ASSETS at RATE Hz (p<ASSETS-1>, ...),
# on plant/<id>/y of the MQTT listener on 127.0.0.1:PORT, stamped half a period after the plant's
# own frame it follows (between two frames, as a sample of the plant's would be): one mosquitto_sub
# of those plants' frames, one awk that writes an outlier after every second frame of a plant, and
# outlier_publishers (broker.sh; OUTLIER_IDS names the plants). Unlike broker.sh's start_outliers,
# stamped in the plant's time, not the wall clock's: twin-sim stamps its schedule, and on a loaded
# cluster it runs seconds behind it; an outlier stamped with the wall clock is then later than the
# plant's next frames, which its twin refuses as going back in time, so the outlier is never cleared
# (seen once: ten such ids left raised after the replica kills). Sets OUTLIERS_PID (the subscriber;
# the others exit when it stops) and adds every PID to `pids`.
start_plant_outliers() {
  local port=$1 assets=$2 count=$3 rate=$4 id topics=()
  outlier_publishers "$port" "$assets" "$count"
  # the nodes' mapping delivers the frames there
  for id in "${OUTLIER_IDS[@]}"; do topics+=(-t "twin_in/+/plant/$id/frame"); done
  rm -f "$work/inject.frames"
  mkfifo "$work/inject.frames"
  # Plant p<ASSETS-1-k> is written to FIFO k. Line by line: stdbuf for mosquitto_sub's stdout,
  # mawk (Debian's awk, always installed) -W interactive, which otherwise reads a FIFO by the block.
  mawk -W interactive -v dir="$work" -v assets="$assets" -v count="$count" -v rate="$rate" '
    BEGIN { for (k = 0; k < count; k++) printf "" > (dir "/inject." k) }  # each opened: all end
    match($2, /"ts":[0-9.eE+-]+/) {
      id = $1; sub(/^.*plant\/p/, "", id); sub(/\/frame$/, "", id)
      k = assets - 1 - id
      if (++seen[k] % 2 == 0) {
        out = dir "/inject." k
        printf "{\"value\":50,\"ts\":%.6f}\n", substr($2, RSTART + 5, RLENGTH - 5) + 0.5 / rate > out
        fflush(out)
      }
    }' <"$work/inject.frames" 2>"$work/inject.awk.err" &
  pids+=("$!")
  stdbuf -oL mosquitto_sub -h 127.0.0.1 -p "$port" -i inject-frames -v "${topics[@]}" \
    >"$work/inject.frames" 2>"$work/inject.sub.err" &
  OUTLIERS_PID=$!
  pids+=("$OUTLIERS_PID")
}

start_plant_outliers "${NATS_MQTT_PORTS[1]}" "$ASSETS" "$INJECT" "$RATE"  # on node 1
injector_pid=$OUTLIERS_PID

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
false_alarms=$(python3 - "$work/alerts.log" "$WEAR" "$((ASSETS - INJECT))" <<'EOF'
import json, sys
n, first_injected = int(sys.argv[2]), int(sys.argv[3])
bad = set()
for line in open(sys.argv[1]):
    a = json.loads(line)
    if (a.get("id") == "divergence" and a["asset"][0] == "p"
            and n <= int(a["asset"][1:]) < first_injected):
        bad.add(a["asset"])
print(len(bad))
EOF
)
((false_alarms == 0)) || fail "$false_alarms healthy plants raised a divergence"
# The outliers do raise alerts: what the hand-overs below carry.
if ((INJECT > 0)) && ! wait_for 10 raised_since "${OUTLIER_IDS[@]}"; then
  fail "not every plant given outliers raised a divergence"
fi

# --- 3. replicas killed ---------------------------------------------------------------------------
# handover_times T I...: from the logs of replicas I..., the seconds from T (a replica's kill) to
# the first change of membership they logged (the dead replica's will) and to the last twin they
# made (each of its assets, made by its first sample after the hand-over); "?" when none.
handover_times() {
  local i files=()
  for i in "${@:2}"; do files+=("$work/replica-$i.log"); done
  python3 - "$1" "${files[@]}" <<'EOF'
import datetime, sys
t0, will, last = float(sys.argv[1]), None, None
for path in sys.argv[2:]:
    for line in open(path, errors="replace"):
        stamp, _, rest = line.partition(" ")
        try:
            ts = datetime.datetime.fromisoformat(stamp).timestamp()  # spdlog's local time
        except ValueError:
            continue
        if ts < t0:
            continue
        if " cluster: " in rest and (will is None or ts < will):
            will = ts
        if " discovered (template " in rest and (last is None or ts > last):
            last = ts
print(*(f"{v - t0:.2f}" if v is not None else "?" for v in (will, last)))
EOF
}
resume_times=() will_times=() twinned_times=()
for ((c = 1; c <= KILLS; c++)); do
  victim=$(((c - 1) % 3 + 1))
  held "$victim"
  mapfile -t theirs < <(grep -xF -f <(printf '%s\n' "${wearing[@]}") "$work/held-$victim" || true)
  FROM=$(wc -l <"$work/alerts.log")
  t=$(now)
  kill -KILL "${rpid[$victim]}"
  wait "${rpid[$victim]}" 2>/dev/null || true
  forget_pid "${rpid[$victim]}"
  live=()
  for i in 1 2 3; do ((i == victim)) || live+=("$i"); done
  if wait_for "$RESUME" shared; then
    resume_times+=("$(since "$t")")
    read -r will twinned < <(handover_times "$t" "${live[@]}")
    will_times+=("$will")
    twinned_times+=("$twinned")
    echo "kill $c: replica-$victim (${#theirs[@]} wearing plants); the survivors hold the fleet" \
      "after ${resume_times[-1]} s by their /state: $(counts); by their logs, its will after" \
      "$will s, its assets twinned again after $twinned s"
  else
    fail "kill $c: the survivors did not hold the whole fleet within $RESUME s: $(counts)"
  fi
  if ((${#theirs[@]} > 0)) && ! FROM=$FROM wait_for 30 taken_over "${theirs[@]}"; then
    fail "kill $c: the dead replica's wearing plants' alerts were not confirmed by their new holders"
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

# --- 4. a machine repaired while its replica dies ---------------------------------------------------
kill -TERM "$repair_pid" 2>/dev/null || true
wait "$repair_pid" 2>/dev/null || true
forget_pid "$repair_pid"
# repair_log raised ID | handed ID: the subscriber has a message of repair1's alert ID (divergence
# or stale) raised, or cleared with handed_over, among the lines of its log after the first
# REPAIR_FROM (0: all; an earlier hand-over may have cleared a repair1 alert too).
repair_log() {
  python3 - "$work/alerts.log" "${REPAIR_FROM:-0}" "$@" <<'EOF'
import json, sys
path, skip, want = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
ok = False
for n, line in enumerate(open(path)):
    if n < skip:
        continue
    a = json.loads(line)
    if a["asset"] != "repair1":
        continue
    if want[0] == "raised" and a["id"] == want[1] and a["state"] == "raised":
        ok = True
    if want[0] == "handed" and a["id"] == want[1] and a.get("handed_over") and a["state"] == "cleared":
        ok = True
sys.exit(0 if ok else 1)
EOF
}
if ! repair_log raised divergence || ! wait_for 15 repair_log raised stale; then
  fail "repair: repair1 was not alerted (divergence, then stale once stopped)"
fi
holder=""
for i in 1 2 3; do
  held "$i"
  grep -qx repair1 "$work/held-$i" && holder=$i
done
if [[ -z $holder ]]; then
  fail "repair: no replica holds repair1"
else
  kill -KILL "${rpid[$holder]}"
  wait "${rpid[$holder]}" 2>/dev/null || true
  forget_pid "${rpid[$holder]}"
  live=()
  for i in 1 2 3; do ((i == holder)) || live+=("$i"); done
  wait_for "$RESUME" shared || fail "repair: the survivors did not hold the fleet within $RESUME s"
  REPAIR_FROM=$(wc -l <"$work/alerts.log")
  start_repair -1 healthy
  t=$(now)
  if wait_for 30 repair_log handed stale && wait_for 30 repair_log handed divergence; then
    echo "repair: replica-$holder killed with repair1 stale and worn; repair1 back healthy: its" \
      "new holder cleared both handed alerts within $(since "$t") s"
  else
    fail "repair: the alerts handed over with repair1 were not cleared within 30 s of its return"
  fi
  start_replica "$holder"
  live=(1 2 3)
  wait_for "$SETTLE" shared 0.8 || fail "repair: not shared by three within $SETTLE s: $(counts)"
fi

# --- 5. by alert_id, across the replica kills: none lost, none stuck -------------------------------
# The injector stops; 3 s later every id the subscriber saw cleared it saw raised, and every id
# it saw raised is cleared but the one alert of each wearing plant.
stop_pid "$injector_pid" || true
sleep 3
if ! ids; then
  head -20 "$work/ids.txt"
  stuck_evidence
  fail "by alert_id: an alert lost or stuck across the replica kills (above)"
fi
echo "alert ids after $KILLS replica kills: $(tail -1 "$work/ids.txt")"

# --- 6. a node killed ------------------------------------------------------------------------------
# Node 2 is replica-2's: it must move to another node, start again from nothing and take its
# share back. The outliers flow again meanwhile: alerts are raised and cleared throughout.
start_plant_outliers "${NATS_MQTT_PORTS[1]}" "$ASSETS" "$INJECT" "$RATE"
injector_pid=$OUTLIERS_PID
sleep 3
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

# --- 7. no alert lost ------------------------------------------------------------------------------
stop_pid "$injector_pid" || true
# A handed divergence clears after cluster.handover_settle (10 s) of agreement.
sleep 15
logged=$(cat "$work"/replica-*.log | sed -n 's/.*ALERT: divergence .*(\(p[0-9]*\)\/y).*/\1/p' | sort -u)
if [[ -n $logged ]] && ! FROM=0 raised_since $logged; then
  fail "a divergence some replica raised never reached the persistent subscriber"
fi

# None stuck across the node's loss either: what nats-server served stale or dropped meanwhile
# was said again by the replicas (records of twins let go, alerts of a delivery gap).
if ! ids; then
  head -20 "$work/ids.txt"
  stuck_evidence
  fail "by alert_id: an alert lost or stuck across the node's loss (above)"
fi
echo "alert ids after node 2's loss: $(tail -1 "$work/ids.txt");" \
  "gaps the replicas found and made good: $(cat "$work"/replica-*.log | grep -c 'published once more' || true)"
for i in 1 2 3; do alive "${rpid[$i]}" || fail "replica-$i died"; done
alive "$sim_pid" || fail "twin-sim died"

echo
echo "replicas: $ASSETS assets at $RATE Hz over 3 replicas and 3 nodes; replica kills: $KILLS," \
  "fleet held whole again after ${resume_times[*]:-(none)} s ($(printf '%s\n' "${resume_times[@]}" |
    sort -n | awk '{v[NR] = $1} END {if (NR) printf "min %s, median %s, max %s", v[1], v[int((NR + 1) / 2)], v[NR]}'))"
echo "  by the survivors' logs: the dead replica's will after ${will_times[*]:-(none)} s; its assets" \
  "twinned again after ${twinned_times[*]:-(none)} s"
echo "  alerts at the subscriber: $(wc -l <"$work/alerts.log") transitions"
keep
if ((failures > 0)); then
  echo "replicas: $failures check(s) failed"
  exit 1
fi
echo "replicas: ok"
