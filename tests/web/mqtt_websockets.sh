#!/usr/bin/env bash
# twind seen by a browser dashboard's MQTT client over WebSockets: a real mosquitto on two free
# loopback ports (MQTT over TCP for twind and twin-sim, MQTT over WebSockets for the dashboard),
# twind on the seed configuration, twin-sim wearing the plant WEAR_AT seconds in (default 4), and
# MQTT.js (tests/web/node_modules, installed by scripts/setup.sh) subscribed to twin/state and
# twin/alert through ws://127.0.0.1:PORT. mqtt_websockets.mjs does the checks (states with their
# documented fields, the divergence alert after the wear and not before). Every process is
# stopped by its PID on exit; twind and twin-sim must exit 0 on SIGTERM without a sanitizer
# report. About 8 s.
#   mqtt_websockets.sh TWIND TWIN_SIM CONFIG
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$(dirname "$0")/../../scripts/lib/broker.sh"
source "$(dirname "$0")/../../scripts/lib/sanitizer.sh"
twind=$1 sim=$2 config=$3
wear_at=${WEAR_AT:-4}

command -v node >/dev/null || { echo "FAIL: no node (scripts/setup.sh installs nodejs)"; exit 1; }
[[ -f $here/node_modules/mqtt/package.json ]] ||
  { echo "FAIL: no $here/node_modules/mqtt (scripts/setup.sh runs npm ci there)"; exit 1; }

init_work

# mosquitto with a TCP and a WebSockets listener. Debian's mosquitto 2.0.11 binds a WebSockets
# listener given 127.0.0.1 to every interface unless the listener also says `socket_domain ipv4`.
# Ports that looked free may be taken by the time mosquitto binds them: up to 5 pairs are tried.
broker_up=0
for attempt in 1 2 3 4 5; do
  tcp_port=$(free_port)
  ws_port=$(free_port)
  while [[ $ws_port == "$tcp_port" ]]; do ws_port=$(free_port); done
  cat >"$work/mosquitto.conf" <<EOF
listener $tcp_port 127.0.0.1
listener $ws_port 127.0.0.1
socket_domain ipv4
protocol websockets
allow_anonymous true
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
log_type notice
EOF
  rc=0
  launch_broker "$work/mosquitto.conf" "$tcp_port" "$work/mosquitto.log" || rc=$?
  if ((rc == 1)); then exit 1; fi
  if ((rc == 0)); then
    for _ in $(seq 100); do
      port_free "$ws_port" || { broker_up=1; break; }
      kill -0 "$BROKER_PID" 2>/dev/null || break
      sleep 0.05
    done
    ((broker_up)) && break
    stop_pid "$BROKER_PID" || true
  fi
  echo "attempt $attempt: mosquitto on ports $tcp_port and $ws_port failed; trying others" >&2
done
((broker_up)) || { echo "FAIL: mosquitto did not listen on both ports"; tail -5 "$work/mosquitto.log"; exit 1; }
listening=$(ss -Hltn "sport = :$ws_port" 2>/dev/null | awk '{print $4}' | paste -sd' ' -) || true
echo "mosquitto $(/usr/sbin/mosquitto -h | head -1 | awk '{print $3}') pid $BROKER_PID:" \
  "tcp://127.0.0.1:$tcp_port, ws://127.0.0.1:$ws_port (listening on: ${listening:-?})"

# The dashboard first, so that it sees every message from twind's first state on.
node "$here/mqtt_websockets.mjs" "ws://127.0.0.1:$ws_port" "$work/sim.out" $((wear_at + 15)) \
  >"$work/node.out" 2>&1 &
node_pid=$!
pids+=("$node_pid")
for _ in $(seq 200); do
  grep -qs '^subscribed$' "$work/node.out" && break
  kill -0 "$node_pid" 2>/dev/null || break
  sleep 0.05
done
if ! grep -qs '^subscribed$' "$work/node.out"; then
  echo "FAIL: MQTT.js did not subscribe over ws://127.0.0.1:$ws_port within 10 s:"
  cat "$work/node.out"
  exit 1
fi

"$twind" run -c "$config" --broker "tcp://127.0.0.1:$tcp_port" --http off 2>"$work/twind.err" &
twind_pid=$!
pids+=("$twind_pid")
for _ in $(seq 200); do
  grep -qs "connected to the broker" "$work/twind.err" && break
  sleep 0.05
done
grep -qs "connected to the broker" "$work/twind.err" ||
  { echo "FAIL: twind did not connect within 10 s:"; tail -5 "$work/twind.err"; exit 1; }

"$sim" --broker "tcp://127.0.0.1:$tcp_port" --wear-at "$wear_at" --duration $((wear_at + 30)) \
  >"$work/sim.out" 2>&1 &
sim_pid=$!
pids+=("$sim_pid")

# The verdict: mqtt_websockets.mjs gives up by itself wear_at + 15 s after subscribing.
rc=0
wait "$node_pid" || rc=$?
forget_pid "$node_pid"
cat "$work/node.out"

failed=0
stop_checked twin-sim "$sim_pid" "$work/sim.out" || failed=1
stop_checked twind "$twind_pid" "$work/twind.err" || failed=1
stop_pid "$BROKER_PID" || true
if ((rc != 0 || failed)); then
  echo "--- twin-sim:"; cat "$work/sim.out"
  echo "--- twind (last lines):"; tail -15 "$work/twind.err"
  echo "--- mosquitto (last lines):"; tail -15 "$work/mosquitto.log"
  exit 1
fi
echo ok
