# Shared by the demo and bench scripts: a work directory and the processes started in it, and a
# Debian mosquitto on a free loopback port. Source it, then call `init_work`: on exit, every
# process whose PID was added to `pids` is stopped by that PID and the work directory removed.
init_work() {
  work=$(mktemp -d)
  pids=()
  trap cleanup_work EXIT
}
cleanup_work() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}

# start_broker WORKDIR: sets BROKER_PORT, BROKER_URI and BROKER_PID, and adds the PID to `pids`.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_broker() {
  local work=$1 candidate
  BROKER_PORT=0
  for _ in $(seq 50); do
    candidate=$((20000 + RANDOM % 20000))
    if port_free "$candidate"; then BROKER_PORT=$candidate; break; fi
  done
  [[ $BROKER_PORT -ne 0 ]] || { echo "no free port found" >&2; return 1; }
  BROKER_URI="tcp://127.0.0.1:$BROKER_PORT"
  sed "s/@PORT@/$BROKER_PORT/" "$(dirname "${BASH_SOURCE[0]}")/../demo/mosquitto.conf.in" \
    >"$work/mosquitto.conf"
  /usr/sbin/mosquitto -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
  BROKER_PID=$!
  pids+=("$BROKER_PID")
  for _ in $(seq 100); do port_free "$BROKER_PORT" || return 0; sleep 0.05; done
  echo "mosquitto did not start; see $work/mosquitto.log" >&2
  return 1
}

# start_twind CONFIG: `build/twind run` against the broker, its log in $work/twind.log; waits
# (bounded) until it is connected. Sets TWIND_PID and adds it to `pids`.
start_twind() {
  build/twind run -c "$1" --broker "$BROKER_URI" --http off >"$work/twind.log" 2>&1 &
  TWIND_PID=$!
  pids+=("$TWIND_PID")
  for _ in $(seq 100); do grep -q "connected to the broker" "$work/twind.log" && return 0; sleep 0.05; done
  echo "twind did not connect; see $work/twind.log" >&2
  return 1
}
