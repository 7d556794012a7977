#!/usr/bin/env bash
# nats_broker.sh [REPO]: what twind's replicas rely on in a NATS cluster used as their MQTT broker,
# proved with the real programs (label integration): three Debian nats-server nodes on free
# loopback ports (scripts/lib/nats.sh: JetStream, MQTT listeners, routes, the account's mappings
# of plant/<id>/{frame,u,y} to twin_in/<partition>/plant/<id>/...) and mosquitto's command-line
# clients, each connected to one node:
#   a. partitions: NIDS asset ids published as plant/<id>/frame (QoS 0, as twin-sim's telemetry)
#      on one node reach a QoS 1 subscriber of twin_in/# on another (as twind subscribes) under
#      partition FNV-1a 32(id) mod P, for P = 3 and, after the nodes reload their mappings
#      (SIGHUP), P = 7. Noted, not checked: the same at QoS 1 end to end (through JetStream),
#      and an id with a '.' (not a legal MQTT topic character for nats-server 2.9);
#   b. retained: a retained message published on node 1 is read on node 3, and an empty retained
#      payload on node 1 clears it for node 3;
#   c. last will: a client on node 2 with a retained will (a replica's membership announcement)
#      killed with SIGKILL: its will reaches a subscriber on node 1, and is then read as retained
#      on node 3; the delay from the kill to its arrival is printed with the keepalive used.
#      Then a client frozen (SIGSTOP) with a keepalive of FROZEN_KEEPALIVE s: its will comes once
#      the server gives up on it (MQTT: 1.5 keepalives), delay printed;
#   d. node loss: after SIGKILL of node 2, nodes 1 and 3 still deliver (a publish on 1, QoS 0 then
#      QoS 1, from a new connection, reaches a subscriber on 3; each waits, about 8 s here, for
#      JetStream's new leaders when node 2 led them: a connection for the sessions' stream, QoS 1
#      for the messages' stream and its consumer; the streams' leaders are printed), still serve the retained messages published before the loss, and store new ones
#      (the MQTT streams have 3 replicas: 2 of 3 are a quorum); node 2, restarted on its ports and
#      store, serves them all again and delivers to node 1.
#   e. client ids (checked before d, while the three nodes are up): two clients with one id on
#      nodes 1 and 3 close each other's connection, again and again (every replica needs its own).
# The times taken (JetStream's failover, the restart) are printed. Bounded: 20-45 s here, and
# every wait has a limit (the whole under 90 s). Prints one line per check and a summary; exit 0
# pass, 1 fail, 77 skipped (no nats-server or no mosquitto clients: scripts/setup.sh installs them).
#   tests/cluster/nats_broker.sh          (ctest -R cluster.nats_broker)
#   env: NIDS=50 KEEPALIVE=5 FROZEN_KEEPALIVE=5 (mosquitto's clients take 5 s at least)
#        NATS_WAIT=60 (s, for each node to serve MQTT at start)
#        KEEP=DIR (keep the nodes' configurations and logs and the subscribers' output there)
# Every process it starts is stopped by its PID; everything listens on 127.0.0.1 only.
set -euo pipefail
root=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
NIDS=${NIDS:-50}
KEEPALIVE=${KEEPALIVE:-5}
FROZEN_KEEPALIVE=${FROZEN_KEEPALIVE:-5}
for tool in /usr/sbin/nats-server mosquitto_pub mosquitto_sub; do
  command -v "$tool" >/dev/null ||
    { echo "SKIP: no $tool (scripts/setup.sh installs it)"; exit 77; }
done
source "$root/scripts/lib/broker.sh"
source "$root/scripts/lib/measure.sh"
source "$root/scripts/lib/nats.sh"
init_work
failures=0
checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
note() { echo "note: $*"; }
on_exit() {
  local rc=$? i
  if ((rc != 0 || failures)); then
    for ((i = 1; i <= ${NATS_N:-0}; i++)); do
      echo "--- last lines of node $i's log:"
      tail -n 8 "${NATS_LOG[i]}" 2>/dev/null || true
    done
  fi
  [[ -z ${KEEP:-} ]] || { mkdir -p "$KEEP" && cp -r "$work"/. "$KEEP/"; }
  cleanup_work
}
trap on_exit EXIT
started=$(now)

# pub NODE TOPIC ARGS...: mosquitto_pub on node NODE, QoS 1 (a PUBACK: the node took it); a
# failure is logged in $work/pub.err with the node and the topic.
pub() {
  local node=$1 topic=$2 err rc=0
  shift 2
  err=$(timeout 10 mosquitto_pub -h 127.0.0.1 -p "${NATS_MQTT_PORTS[node]}" -q 1 -t "$topic" "$@" \
    2>&1) || rc=$?
  ((rc == 0)) || echo "$(date +%T.%N) node $node $topic: exit $rc $err" >>"$work/pub.err"
  return "$rc"
}
# retained NODE TOPIC: the retained payload a new subscriber on NODE gets for TOPIC (nothing if
# none within 2 s).
retained() {
  timeout 10 mosquitto_sub -h 127.0.0.1 -p "${NATS_MQTT_PORTS[$1]}" -t "$2" -C 1 -W 2 \
    --retained-only 2>/dev/null || true
}
# wait_for (measure.sh) polls every 0.05 s: the delays it prints are to that.
# shellcheck disable=SC2034
WAIT_EVERY=0.05
has_line() { grep -qxF -- "$2" "$1"; }
# lines_at_least FILE STRING N: FILE has N lines or more holding STRING.
lines_at_least() { (($(grep -cF -- "$2" "$1" || true) >= $3)); }
retained_is() { [[ $(retained "$1" "$2") == "$3" ]]; }
# subscriber NODE FILE TOPIC...: mosquitto_sub -v on NODE (QoS 1) in the background, into FILE.
subscriber() {
  local node=$1 file=$2
  shift 2
  local filters=() f
  for f in "$@"; do filters+=(-t "$f"); done
  mosquitto_sub -h 127.0.0.1 -p "${NATS_MQTT_PORTS[node]}" -q 1 -v "${filters[@]}" >"$file" \
    2>>"$work/sub.err" &
  pids+=($!)
}
# ready FILE NODE TOPIC: publishes markers on NODE until the subscriber writing FILE has one
# (its subscription then reaches across the cluster).
marker=0
ready() {
  local deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)); do
    marker=$((marker + 1))
    pub "$2" "$3" -m "m$marker" || true
    if wait_for 1 has_line "$1" "${4:-$3} m$marker"; then return 0; fi
  done
  return 1
}

# --- the cluster ---------------------------------------------------------------------------------
t=$(now)
nats_cluster_start 3 3 || { echo "FAIL: the cluster did not start"; exit 1; }
echo "cluster: 3 nodes serving MQTT $(since "$t") s after they started ($NATS_BROKERS);" \
  "$(grep -ho 'Creating MQTT streams/consumers with replicas [0-9]*' "${NATS_LOG[1]}" | head -1)"
n1=$work/node1.txt
n3=$work/node3.txt
subscriber 1 "$n1" 'twin_in/#' 'twind/members/#'
subscriber 3 "$n3" 'twin_in/#' 'twind/members/#'
for sub in "$n1" "$n3"; do
  ready "$sub" 2 plant/ready/frame "twin_in/$(nats_partition ready 3)/plant/ready/frame" ||
    { echo "FAIL: the subscriber writing $sub never got a marker from node 2"; exit 1; }
done

# --- a. partitions -------------------------------------------------------------------------------
ids=()
for ((k = 0; k < NIDS; k++)); do
  case $((k % 5)) in
    0 | 1) ids+=("$(printf 'p%05d' "$k")") ;;   # twin-sim's fleet ids
    2) ids+=("line$k-pump") ;;
    3) ids+=("A$k") ;;
    4) ids+=("press_${k}_x-$((k * 7919))") ;;
  esac
done
# publish_ids P FROM QOS TAG: publishes every id on node FROM as plant/<id>/frame at QOS, payload
# TAG:<id>, and writes the lines a subscriber of twin_in/# should print into $work/expect.txt.
# QoS 1 publishes that fail (the connection lost) are sent again, as a QoS 1 client does (a
# duplicate is harmless here); `resent` counts them.
publish_ids() {
  local p=$1 from=$2 qos=$3 tag=$4 id
  resent=0
  : >"$work/expect.txt"
  for id in "${ids[@]}"; do
    for _ in 1 2 3; do
      pub "$from" "plant/$id/frame" -q "$qos" -m "$tag:$id" && break
      resent=$((resent + 1))
    done
    echo "twin_in/$(nats_partition "$id" "$p")/plant/$id/frame $tag:$id" >>"$work/expect.txt"
  done
}
# compare_ids SUB TAG: sets `bad` (ids under another partition) and `missing` (ids SUB lacks),
# after waiting (up to 10 s) for all of them.
compare_ids() {
  local sub=$1 tag=$2 line id seen
  bad=0 missing=0
  wait_for 10 lines_at_least "$sub" " $tag:" "${#ids[@]}" || true
  while read -r line; do
    id=${line##*:}
    seen=$(grep -F " $tag:$id" "$sub" | grep -E " $tag:$id\$" | head -1 || true)
    if [[ -z $seen ]]; then
      missing=$((missing + 1))
    elif [[ $seen != "$line" ]]; then
      bad=$((bad + 1))
      ((bad > 3)) || echo "  $tag: expected '$line', got '$seen'"
    fi
  done <"$work/expect.txt"
}
# check_partitions P FROM SUB TO: the ids published on node FROM at QoS 0 (the telemetry's QoS,
# twin-sim's default), read by the QoS 1 subscriber on node TO (writing SUB; twind subscribes at
# QoS 1): each under its partition.
check_partitions() {
  local p=$1 from=$2 sub=$3 to=$4
  publish_ids "$p" "$from" 0 "P$p"
  compare_ids "$sub" "P$p"
  if ((bad == 0 && missing == 0)); then
    ok "a. P=$p: ${#ids[@]} ids published on node $from reached node $to under" \
      "partition FNV-1a32(id) mod $p (spread: $(cut -d/ -f2 "$work/expect.txt" | sort -n |
        uniq -c | awk '{printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $1}'))"
  else
    fail "a. P=$p: of ${#ids[@]} ids from node $from, $bad under another partition and" \
      "$missing missing on node $to"
  fi
}
check_partitions 3 2 "$n1" 1
t=$(now)
reloaded() {
  local i
  for ((i = 1; i <= NATS_N; i++)); do
    lines_at_least "${NATS_LOG[i]}" 'Reloaded server configuration' "$1" || return 1
  done
}
nats_set_partitions 7
wait_for 10 reloaded 1 || fail "a. not every node logged the reload of its configuration"
echo "a. mappings reloaded for P=7 on the 3 nodes (SIGHUP) in $(since "$t") s"
check_partitions 7 3 "$n1" 1
nats_set_partitions 3
wait_for 10 reloaded 2 || fail "a. not every node logged the second reload of its configuration"
# QoS 1 end to end (as twind's alerts to a QoS 1 subscriber): through JetStream ($MQTT_msgs and
# a consumer per subscription). Counted, not checked: in some runs on a loaded machine a few of
# 50 acknowledged messages never reached the subscriber on the other node.
publish_ids 3 2 1 Q1
compare_ids "$n1" Q1
note "a. QoS 1 end to end: of ${#ids[@]} ids published at QoS 1 on node 2 (acknowledged;" \
  "$resent sent again), node 1's QoS 1 subscriber got $((${#ids[@]} - missing)), $bad under" \
  "another partition"
if pub 2 plant/a.b/frame -m dotted; then
  note "a. an id with '.' (plant/a.b/frame) was accepted by node 2"
else
  note "a. an id with '.' (plant/a.b/frame) is refused: node 2 closed the publisher's connection" \
    "($(grep -ho "characters ' ' and '.' not supported[^\"]*" "${NATS_LOG[2]}" | head -1))"
fi

# --- b. retained ---------------------------------------------------------------------------------
t=$(now)
pub 1 twind/test/retained -r -m r1 || true
if wait_for 10 retained_is 3 twind/test/retained r1; then
  ok "b. a retained message published on node 1 is read on node 3 ($(since "$t") s)"
else
  fail "b. the retained message published on node 1 is not read on node 3" \
    "(got '$(retained 3 twind/test/retained)')"
fi
t=$(now)
pub 1 twind/test/retained -r -n || true
if wait_for 10 retained_is 3 twind/test/retained ""; then
  ok "b. an empty retained payload on node 1 clears it for node 3 ($(since "$t") s)"
else
  fail "b. after an empty retained payload on node 1, node 3 still has" \
    "'$(retained 3 twind/test/retained)'"
fi

# --- c. last will --------------------------------------------------------------------------------
# will_client NAME KEEPALIVE: a client on node 2 announcing twind/members/NAME retained "online",
# with a retained will "offline" on that topic; sets WILL_PID once it is connected and subscribed
# (a message on its own topic came back to it).
will_client() {
  local name=$1 out=$work/will-$1.txt
  mosquitto_sub -h 127.0.0.1 -p "${NATS_MQTT_PORTS[2]}" -i "$name" -k "$2" -q 1 -v \
    --will-topic "twind/members/$name" --will-payload offline --will-retain --will-qos 1 \
    -t "twind/test/ping/$name" >"$out" 2>>"$work/sub.err" &
  WILL_PID=$!
  pids+=("$WILL_PID")
  ready "$out" 2 "twind/test/ping/$name" || return 1
  pub 2 "twind/members/$name" -r -m online
  wait_for 10 has_line "$n1" "twind/members/$name online"
}
# will_arrived NAME: node 1's subscriber has NAME's will.
will_arrived() { has_line "$n1" "twind/members/$1 offline"; }
if will_client replica-killed "$KEEPALIVE"; then
  t=$(now)
  kill -KILL "$WILL_PID"
  wait "$WILL_PID" 2>/dev/null || true
  forget_pid "$WILL_PID"
  if wait_for 20 will_arrived replica-killed; then
    d=$(since "$t")
    ok "c. the will of a client on node 2 killed with SIGKILL reached node 1 in $d s (keepalive" \
      "$KEEPALIVE s: the kernel closes the socket, the server sees it at once)"
  else
    fail "c. no will on node 1 within 20 s of the SIGKILL of its client on node 2"
  fi
  if wait_for 10 retained_is 3 twind/members/replica-killed offline; then
    ok "c. the will is retained: node 3 serves 'offline' for the killed client"
  else
    fail "c. node 3 serves '$(retained 3 twind/members/replica-killed)' for the killed client," \
      "not 'offline'"
  fi
else
  fail "c. the client with a will did not come up on node 2"
fi
if will_client replica-frozen "$FROZEN_KEEPALIVE"; then
  t=$(now)
  kill -STOP "$WILL_PID"
  if wait_for $((FROZEN_KEEPALIVE * 3 + 5)) will_arrived replica-frozen; then
    d=$(since "$t")
    ok "c. the will of a client frozen (SIGSTOP) on node 2 reached node 1 in $d s (keepalive" \
      "$FROZEN_KEEPALIVE s; MQTT allows 1.5 keepalives: $(awk -v k="$FROZEN_KEEPALIVE" \
        'BEGIN {print k * 1.5}') s)"
  else
    fail "c. no will on node 1 within $((FROZEN_KEEPALIVE * 3 + 5)) s of freezing its client"
  fi
  kill -KILL "$WILL_PID"
  wait "$WILL_PID" 2>/dev/null || true
  forget_pid "$WILL_PID"
else
  fail "c. the frozen client with a will did not come up on node 2"
fi

# --- e. client ids are cluster-wide --------------------------------------------------------------
# Two clients with one id, on nodes 1 and 3 (as two replicas given the same client_id would be).
mosquitto_sub -h 127.0.0.1 -p "${NATS_MQTT_PORTS[1]}" -i twind-same-id -t twind/test/e1 \
  >/dev/null 2>>"$work/sub.err" &
e1=$!
pids+=("$e1")
sleep 1
mosquitto_sub -h 127.0.0.1 -p "${NATS_MQTT_PORTS[3]}" -i twind-same-id -t twind/test/e3 \
  >/dev/null 2>>"$work/sub.err" &
e3=$!
pids+=("$e3")
sleep 4
closed=$(cat "${NATS_LOG[@]}" |
  grep -c 'remote connection has started with the same client ID: "twind-same-id"' || true)
if ((closed > 0)); then
  ok "e. a client id is cluster-wide: two clients with one id on nodes 1 and 3 closed each other" \
    "$closed times in 4 s (each reconnects and takes it back)"
else
  fail "e. two clients with one id on nodes 1 and 3 ran side by side for 4 s"
fi
stop_pid "$e1" || true
stop_pid "$e3" || true

# --- d. the loss of node 2 -----------------------------------------------------------------------
pub 1 twind/test/kept -r -m k1 || true
wait_for 10 retained_is 3 twind/test/kept k1 ||
  fail "d. node 3 does not serve 'kept' before the loss"
# leader STREAM: the node whose log last announced itself leader of the MQTT stream STREAM.
leader() {
  local i
  for ((i = 1; i <= NATS_N; i++)); do
    grep -F "new stream leader for 'TWIND > \$MQTT_$1'" "${NATS_LOG[i]}" | sed "s/^[^ ]* /$i /"
  done | sort -k2,3 | tail -1 | cut -d' ' -f1
}
echo "d. stream leaders before the loss: retained messages (\$MQTT_rmsgs) node $(leader rmsgs)," \
  "sessions (\$MQTT_sess) node $(leader sess), QoS 1 messages (\$MQTT_msgs) node $(leader msgs)"
t_kill=$(now)
nats_kill_node 2
echo "d. node 2 killed (SIGKILL)"
# delivered_1_to_3 QOS: a fresh frame published on node 1 at QOS reaches the subscriber on node 3.
delivered_1_to_3() {
  marker=$((marker + 1))
  pub 1 plant/after-loss/frame -q "$1" -m "m$marker" || return 1
  wait_for 1 has_line "$n3" "twin_in/$(nats_partition after-loss 3)/plant/after-loss/frame m$marker"
}
# QoS 0 first: it goes through no stream, but its connection does (the session is stored in
# $MQTT_sess). QoS 1 to a QoS 1 subscription is stored in $MQTT_msgs, and waits for that stream's
# leader too.
for qos in 0 1; do
  if wait_for 20 delivered_1_to_3 "$qos"; then
    ok "d. without node 2, a QoS $qos frame published on node 1 reaches node 3" \
      "($(since "$t_kill") s after the kill)"
  else
    fail "d. without node 2, no QoS $qos frame published on node 1 reaches node 3 within 20 s"
  fi
done
for node in 1 3; do
  if wait_for 20 retained_is "$node" twind/test/kept k1; then
    ok "d. without node 2, node $node serves the retained message published before the loss" \
      "($(since "$t_kill") s after the kill)"
  else
    fail "d. without node 2, node $node serves '$(retained "$node" twind/test/kept)', not 'k1'"
  fi
done
# stored_during: a retained publish on node 3 during the loss is read on node 1.
stored_during() { pub 3 twind/test/during -r -m d1 && retained_is 1 twind/test/during d1; }
if wait_for 30 stored_during; then
  ok "d. without node 2, a retained message published on node 3 is stored and read on node 1" \
    "($(since "$t_kill") s after the kill)"
else
  fail "d. without node 2, no retained message published on node 3 is read on node 1 within 30 s"
fi
t=$(now)
if nats_restart_node 2 30; then
  ok "d. node 2 restarted on its ports and store: serving MQTT in $(since "$t") s"
  for topic_value in kept:k1 during:d1; do
    topic=twind/test/${topic_value%%:*} value=${topic_value#*:}
    if wait_for 20 retained_is 2 "$topic" "$value"; then
      ok "d. restarted node 2 serves $topic = $value ($(since "$t") s after its start)"
    else
      fail "d. restarted node 2 serves $topic = '$(retained 2 "$topic")', not '$value'"
    fi
  done
  delivered_2_to_1() {
    marker=$((marker + 1))
    pub 2 plant/after-restart/frame -m "m$marker" || return 1
    wait_for 1 has_line "$n1" "twin_in/$(nats_partition after-restart 3)/plant/after-restart/frame m$marker"
  }
  if wait_for 20 delivered_2_to_1; then
    ok "d. restarted node 2 delivers to node 1 ($(since "$t") s after its start)"
  else
    fail "d. nothing published on restarted node 2 reaches node 1 within 20 s"
  fi
else
  fail "d. node 2 did not serve MQTT within 30 s of its restart"
fi

echo "nats_broker: $checks checks, $failures failed, $(since "$started") s"
((failures == 0)) || exit 1
echo "nats_broker: ok"
