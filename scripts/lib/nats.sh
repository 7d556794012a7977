# shellcheck shell=bash disable=SC2034  # the NATS_* variables are for the caller
# Shared by the cluster tests and scripts: a cluster of Debian's nats-server (2.9) on free loopback
# ports, whose MQTT listeners stand in for the broker of several twind replicas. Source it after
# broker.sh (init_work, free_port, port_free, forget_pid) and call init_work first: every node is
# added to `pids` (stopped by its PID on exit) and keeps its configuration, log and JetStream
# store in $work/nats/nI.
#
# Each node has a client, a cluster and an MQTT port, routes to every other node, and one account
# with JetStream (MQTT needs it: sessions, QoS 1 and retained messages live in streams) whose
# mappings partition the telemetry: MQTT topic plant/<id>/<leaf> (NATS subject plant.<id>.<leaf>)
# is delivered as twin_in/<p>/plant/<id>/<leaf>, p = FNV-1a 32-bit hash of <id> modulo P (NATS'
# deterministic partition(P, 1)). The MQTT streams get min(N, 3) replicas (mqtt.stream_replicas):
# left alone, nats-server 2.9 takes the number of routes in the configuration (2 on a node of
# three that lists the two others), and a stream of two replicas has no quorum once one of them
# is lost, so retained messages would stop being served after a single node's death.
#
#   nats_cluster_start [N] [P] [LEAF...]
#       writes the configurations and starts N nodes (default 3) mapping the leaves frame, u, y
#       and the LEAFs given over P partitions (default 3); returns once every node's MQTT listener
#       stores and serves a retained message (up to NATS_WAIT s each, default 60). Sets
#         NATS_N, NATS_P, NATS_LEAVES (array)
#         NATS_MQTT_URIS[i]    tcp://127.0.0.1:PORT, node i's MQTT listener (i = 1..N)
#         NATS_BROKERS         the same URIs, comma-separated (twind's and twin-sim's --broker list)
#         NATS_MQTT_PORTS[i] NATS_CLIENT_PORTS[i] NATS_CLUSTER_PORTS[i] NATS_PIDS[i]
#         NATS_CONF[i] NATS_LOG[i]
#       A port that looked free can be taken before a node binds it: the whole cluster is then
#       started again on other ports (up to 3 times).
#   nats_wait_mqtt I [SECONDS]
#       until node I's MQTT listener works: a retained QoS 1 publish read back by a subscriber
#       (then cleared); 1, with the log's tail on stderr, after SECONDS (default NATS_WAIT) or
#       when the node has died
#   nats_kill_node I        SIGKILL node I (no shutdown: as a crash or a power loss), reaped and
#                           forgotten (NATS_PIDS[I] empty)
#   nats_start_node I       starts node I on its ports and store (no wait); nats_restart_node I
#                           does that and nats_wait_mqtt
#   nats_set_partitions P   rewrites every node's mappings for P partitions and makes the running
#                           nodes reload them (SIGHUP); each node maps what its own clients publish
#                           (so while they reload, two nodes may partition differently). The users
#                           have explicit permissions: nats-server 2.9.10 crashes reloading MQTT
#                           and users without them.
#   nats_stop_cluster       stops every running node (SIGTERM, by PID)
#   nats_partition ID P     prints FNV-1a 32(ID) mod P: the partition the mapping gives ID
#   replica_assets PORT FILE  the assets a replica holds (its /state), one per line, into FILE
#   fleet_split ASSETS MIN_SHARE FILE...  the fleet split between replicas, each within a share
#   fleet_shared ASSETS [MIN_SHARE]  fleet_split over the live replicas: `live` lists their
#                           numbers I, `http[I]` their HTTP ports; their lists go to $work/held-I
#   fleet_counts            "replica-I N ..." from those lists

NATS_WAIT=${NATS_WAIT:-60}
NATS_SERVER=${NATS_SERVER:-/usr/sbin/nats-server}

nats_partition() {
  local id=$1 h=2166136261 i c
  for ((i = 0; i < ${#id}; i++)); do
    printf -v c '%d' "'${id:i:1}"
    h=$(((h ^ c) * 16777619 & 0xffffffff))
  done
  echo $((h % $2))
}

# nats_write_config I: node I's configuration from the NATS_* variables.
nats_write_config() {
  local i=$1 j routes="" maps="" leaf replicas=$((NATS_N < 3 ? NATS_N : 3))
  for ((j = 1; j <= NATS_N; j++)); do
    ((j == i)) || routes+="      nats-route://127.0.0.1:${NATS_CLUSTER_PORTS[j]}"$'\n'
  done
  for leaf in "${NATS_LEAVES[@]}"; do
    maps+="      \"plant.*.$leaf\": \"twin_in.{{partition($NATS_P,1)}}.plant.{{wildcard(1)}}.$leaf\""$'\n'
  done
  mkdir -p "$NATS_DIR/n$i/store"
  cat >"${NATS_CONF[i]}" <<EOF
# Node $i of $NATS_N (scripts/lib/nats.sh).
server_name: n$i
listen: 127.0.0.1:${NATS_CLIENT_PORTS[i]}
jetstream {
  store_dir: "$NATS_DIR/n$i/store"
}
mqtt {
  listen: 127.0.0.1:${NATS_MQTT_PORTS[i]}
  stream_replicas: $replicas
}
cluster {
  name: twind
  listen: 127.0.0.1:${NATS_CLUSTER_PORTS[i]}
  routes: [
$routes  ]
}
accounts {
  TWIND {
    jetstream: enabled
    # Explicit permissions: nats-server 2.9.10 crashes (nil pointer in mqttCheckPubRetainedPerms)
    # reloading a configuration with MQTT enabled whose users have none.
    users: [{user: twind, password: twind, permissions: {publish: ">", subscribe: ">"}}]
    mappings: {
$maps    }
  }
}
# MQTT clients without credentials are this account's user.
no_auth_user: twind
EOF
}

nats_start_node() {
  local i=$1
  "$NATS_SERVER" -c "${NATS_CONF[i]}" >>"${NATS_LOG[i]}" 2>&1 &
  NATS_PIDS[i]=$!
  pids+=("${NATS_PIDS[i]}")
}

nats_kill_node() {
  local i=$1 pid=${NATS_PIDS[$1]:-}
  [[ -n $pid ]] || return 0
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
  NATS_PIDS[i]=""
}

nats_wait_mqtt() {
  local i=$1 limit=${2:-$NATS_WAIT} port=${NATS_MQTT_PORTS[$1]} token got deadline
  deadline=$((SECONDS + limit))
  token="probe-$$-$RANDOM"
  while ((SECONDS < deadline)); do
    if [[ -z ${NATS_PIDS[i]} ]] || ! kill -0 "${NATS_PIDS[i]}" 2>/dev/null; then
      echo "nats node $i is not running; the end of ${NATS_LOG[i]}:" >&2
      tail -n 5 "${NATS_LOG[i]}" >&2
      return 1
    fi
    if ! port_free "$port" &&
      timeout 10 mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -r -t "twind/probe/n$i" -m "$token" \
        2>/dev/null; then
      got=$(timeout 10 mosquitto_sub -h 127.0.0.1 -p "$port" -t "twind/probe/n$i" -C 1 -W 5 \
        --retained-only 2>/dev/null || true)
      if [[ $got == "$token" ]]; then
        timeout 10 mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -r -n -t "twind/probe/n$i" \
          2>/dev/null || true
        return 0
      fi
    fi
    sleep 0.5
  done
  echo "nats node $i: no working MQTT listener on port $port within $limit s; the end of" \
    "${NATS_LOG[i]}:" >&2
  tail -n 5 "${NATS_LOG[i]}" >&2
  return 1
}

nats_restart_node() {
  nats_start_node "$1"
  nats_wait_mqtt "$1"
}

nats_stop_cluster() {
  local i
  for ((i = 1; i <= NATS_N; i++)); do
    [[ -z ${NATS_PIDS[i]:-} ]] || stop_pid "${NATS_PIDS[i]}" || true
    NATS_PIDS[i]=""
  done
}

nats_set_partitions() {
  local i
  NATS_P=$1
  for ((i = 1; i <= NATS_N; i++)); do
    nats_write_config "$i"
    [[ -z ${NATS_PIDS[i]} ]] || kill -HUP "${NATS_PIDS[i]}"
  done
}

# nats_ports_taken: 0 when a node exited at start because one of its ports was taken.
nats_ports_taken() {
  local i
  for ((i = 1; i <= NATS_N; i++)); do
    if ! kill -0 "${NATS_PIDS[i]}" 2>/dev/null &&
      grep -q 'address already in use' "${NATS_LOG[i]}"; then
      return 0
    fi
  done
  return 1
}

nats_cluster_start() {
  local attempt i port used p
  NATS_N=${1:-3}
  NATS_P=${2:-3}
  NATS_LEAVES=(frame u y "${@:3}")
  NATS_DIR=${work:?call init_work first}/nats
  for attempt in 1 2 3; do
    NATS_MQTT_URIS=() NATS_MQTT_PORTS=() NATS_CLIENT_PORTS=() NATS_CLUSTER_PORTS=() NATS_PIDS=()
    NATS_CONF=() NATS_LOG=()
    used=" "
    for ((i = 1; i <= NATS_N; i++)); do
      for port in client cluster mqtt; do
        p=$(free_port) || return 1
        while [[ $used == *" $p "* ]]; do p=$(free_port) || return 1; done
        used+="$p "
        case $port in
          client) NATS_CLIENT_PORTS[i]=$p ;;
          cluster) NATS_CLUSTER_PORTS[i]=$p ;;
          mqtt) NATS_MQTT_PORTS[i]=$p ;;
        esac
      done
      NATS_MQTT_URIS[i]="tcp://127.0.0.1:${NATS_MQTT_PORTS[i]}"
      NATS_CONF[i]=$NATS_DIR/n$i/nats.conf
      NATS_LOG[i]=$NATS_DIR/n$i/nats.log
    done
    NATS_BROKERS=$(IFS=,; echo "${NATS_MQTT_URIS[*]}")
    rm -rf "$NATS_DIR"
    for ((i = 1; i <= NATS_N; i++)); do nats_write_config "$i"; done
    for ((i = 1; i <= NATS_N; i++)); do nats_start_node "$i"; done
    sleep 0.5
    if nats_ports_taken; then
      echo "nats_cluster_start: attempt $attempt: a port was taken; trying other ports" >&2
      nats_stop_cluster
      continue
    fi
    for ((i = 1; i <= NATS_N; i++)); do nats_wait_mqtt "$i" || return 1; done
    return 0
  done
  return 1
}

# replica_assets PORT FILE: the assets a twind replica publishes states of (the /state of its HTTP
# endpoint on 127.0.0.1:PORT), one per line, into FILE (empty when it does not answer).
replica_assets() {
  http_get "$1" /state 2>/dev/null |
    python3 -c 'import json,sys
for s in json.load(sys.stdin): print(s["asset"])' >"$2" 2>/dev/null || : >"$2"
}

# fleet_split ASSETS MIN_SHARE FILE...: true when every plant of the fleet (the ASSETS assets
# p<n>) is in exactly one FILE (replica_assets' lists) and, with MIN_SHARE above 0, each FILE
# holds at least that fraction of an even share and at most 2 - MIN_SHARE of it.
fleet_split() {
  python3 - "$@" <<'EOF'
import sys
n, share, files = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
sets = [set(x for x in open(f).read().split() if x[0] == "p") for f in files]  # the fleet's
union = set().union(*sets)
if sum(len(s) for s in sets) != len(union) or len(union) != n:
    sys.exit(1)
even = n / len(sets)
if share > 0 and any(not (share * even <= len(s) <= (2 - share) * even) for s in sets):
    sys.exit(1)
EOF
}

fleet_shared() {
  local i files=()
  for i in "${live[@]}"; do
    replica_assets "${http[$i]}" "$work/held-$i"
    files+=("$work/held-$i")
  done
  fleet_split "$1" "${2:-0}" "${files[@]}"
}

fleet_counts() {
  local i out=""
  for i in "${live[@]}"; do out+=" replica-$i $(grep -c '^p' "$work/held-$i" || true)"; done
  echo "${out# }"
}
