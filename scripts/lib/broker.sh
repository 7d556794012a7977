# Shared by the demo and bench scripts: a work directory and the processes started in it, and a
# Debian mosquitto on a free loopback port. Source it, then call `init_work`: on exit, every
# process whose PID was added to `pids` is stopped by that PID and the work directory removed.
init_work() {
  work=$(mktemp -d)
  pids=()
  cgroups=()
  trap cleanup_work EXIT
}
cleanup_work() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for dir in "${cgroups[@]}"; do rmdir "$dir" 2>/dev/null || true; done
  rm -rf "$work"
}

# limit_cpu PID FRACTION: PID (all its threads, and those it makes later) may use at most
# FRACTION of one core, through a CPU cgroup of its own (v1 `cpu` or v2 `cpu.max`), removed on
# exit; sets CPU_CGROUP (for set_cpu_quota). Needs root. Returns non-zero, saying why, when the
# machine has no such controller.
limit_cpu() {
  local pid=$1 dir
  if [[ -w /sys/fs/cgroup/cpu/cgroup.procs ]]; then
    dir=/sys/fs/cgroup/cpu/twind-limit-$$-$pid
  elif [[ -f /sys/fs/cgroup/cgroup.controllers ]] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers &&
    [[ -w /sys/fs/cgroup/cgroup.subtree_control ]]; then
    echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    dir=/sys/fs/cgroup/twind-limit-$$-$pid
  else
    echo "limit_cpu: no writable CPU cgroup controller here (needs root)" >&2
    return 1
  fi
  mkdir "$dir" || return 1
  cgroups+=("$dir")
  set_cpu_quota "$dir" "$2" && echo "$pid" >"$dir/cgroup.procs" || return 1
  CPU_CGROUP=$dir
}
# set_cpu_quota DIR FRACTION: the CPU cgroup DIR (made by limit_cpu) gets FRACTION of one core.
set_cpu_quota() {
  local quota
  quota=$(awk -v f="$2" 'BEGIN {q = int(f * 100000); if (q < 1000) q = 1000; print q}')
  if [[ -f $1/cpu.max ]]; then
    echo "$quota 100000" >"$1/cpu.max"
  else
    echo 100000 >"$1/cpu.cfs_period_us" && echo "$quota" >"$1/cpu.cfs_quota_us"
  fi
}

# start_broker WORKDIR: sets BROKER_PORT, BROKER_URI and BROKER_PID, and adds the PID to `pids`.
# A port that looked free can be taken before mosquitto binds it: when mosquitto exits at start,
# another port is tried (up to 5).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_broker() {
  local work=$1 attempt rc
  for attempt in 1 2 3 4 5; do
    BROKER_PORT=$(free_port) || return 1
    BROKER_URI="tcp://127.0.0.1:$BROKER_PORT"
    sed "s/@PORT@/$BROKER_PORT/" "$(dirname "${BASH_SOURCE[0]}")/../demo/mosquitto.conf.in" \
      >"$work/mosquitto.conf"
    rc=0
    launch_broker "$work/mosquitto.conf" "$BROKER_PORT" "$work/mosquitto.log" || rc=$?
    [[ $rc -eq 2 ]] || return "$rc"
    echo "start_broker: attempt $attempt on port $BROKER_PORT failed; trying another port" >&2
  done
  return 1
}

# launch_broker CONF PORT LOG: /usr/sbin/mosquitto -c CONF, its stderr appended to LOG; sets
# BROKER_PID and adds it to `pids`, then waits (up to 20 s: a loaded machine can be slow) until
# PORT accepts connections. Returns 2, with the log's tail on stderr, when mosquitto exited at
# start (most often: the port was taken), and 1 when it is alive but never accepted.
launch_broker() {
  /usr/sbin/mosquitto -c "$1" 2>>"$3" &
  BROKER_PID=$!
  pids+=("$BROKER_PID")
  for _ in $(seq 400); do
    port_free "$2" || return 0
    if ! kill -0 "$BROKER_PID" 2>/dev/null; then
      wait "$BROKER_PID" 2>/dev/null || true
      forget_pid "$BROKER_PID"
      echo "mosquitto exited at start on port $2; the end of $3:" >&2
      tail -n 5 "$3" >&2
      return 2
    fi
    sleep 0.05
  done
  echo "mosquitto did not accept connections on port $2 within 20 s; the end of $3:" >&2
  tail -n 5 "$3" >&2
  return 1
}

# forget_pid PID: removes PID from `pids` once it has been reaped, so that cleanup never signals
# a reused PID.
forget_pid() {
  local p kept=()
  for p in "${pids[@]}"; do [[ $p == "$1" ]] || kept+=("$p"); done
  pids=("${kept[@]}")
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

# free_port: prints a loopback port nobody listens on, below the kernel's ephemeral range (where
# outgoing connections take their local ports) when that range leaves room.
free_port() {
  local candidate low=32768 high=60999 base=20000 span=12000
  read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  if ((low > 12000)); then
    base=10000 span=$((low - 10000))
  elif ((high < 61000)); then
    base=$((high + 1)) span=$((65535 - high))
  fi
  for _ in $(seq 50); do
    candidate=$((base + (RANDOM * 32768 + RANDOM) % span))
    if port_free "$candidate"; then echo "$candidate"; return 0; fi
  done
  echo "no free port found" >&2
  return 1
}

# start_twind_http BUILD_DIR CONFIG HTTP_LISTEN LOG: like start_twind, with twind from BUILD_DIR and
# its HTTP endpoint (/metrics) on HTTP_LISTEN (host:port). Sets TWIND_PID and adds it to `pids`.
start_twind_http() {
  "$1/twind" run -c "$2" --broker "$BROKER_URI" --http "$3" >"$4" 2>&1 &
  TWIND_PID=$!
  pids+=("$TWIND_PID")
  for _ in $(seq 200); do grep -q "connected to the broker" "$4" && return 0; sleep 0.05; done
  echo "twind did not connect; see $4" >&2
  return 1
}

# outlier_publishers PORT ASSETS COUNT: for each of the last COUNT plants of a fleet of ASSETS
# (p<ASSETS-1>, ...), a FIFO $work/inject.K and a mosquitto_pub -l that publishes each line written
# to it on plant/<id>/y of the MQTT listener on 127.0.0.1:PORT (it exits once the FIFO's writers
# close it). Sets OUTLIER_IDS (the plants, K-th first) and adds every PID to `pids`.
outlier_publishers() {
  local port=$1 assets=$2 count=$3 k id
  OUTLIER_IDS=()
  for ((k = 0; k < count; k++)); do
    id=$(printf 'p%05d' $((assets - 1 - k)))
    OUTLIER_IDS+=("$id")
    rm -f "$work/inject.$k"  # a FIFO of an earlier injector, stopped
    mkfifo "$work/inject.$k"
    mosquitto_pub -h 127.0.0.1 -p "$port" -i "inject-$k" -t "plant/$id/y" -l \
      <"$work/inject.$k" 2>"$work/inject.$k.err" &
    pids+=("$!")
  done
}

# start_outliers PORT ASSETS COUNT: every second, an outlier y (50, far past any threshold, stamped
# with the wall clock) for each of the last COUNT plants of a fleet of ASSETS (p<ASSETS-1>, ...),
# on plant/<id>/y of the MQTT listener on 127.0.0.1:PORT: outlier_publishers, fed by one loop
# ($EPOCHREALTIME, no fork). Sets OUTLIERS_PID (the loop; the publishers exit when it stops) and
# adds every PID to `pids`.
start_outliers() {
  local count=$3 k
  outlier_publishers "$@"
  (
    fds=()
    for ((k = 0; k < count; k++)); do exec {fd}>"$work/inject.$k"; fds+=("$fd"); done
    while true; do
      sleep 1
      for fd in "${fds[@]}"; do printf '{"value":50,"ts":%s}\n' "$EPOCHREALTIME" >&"$fd"; done
    done
  ) &
  OUTLIERS_PID=$!
  pids+=("$OUTLIERS_PID")
}

# stop_pid PID: stops one process started here (SIGTERM, then SIGKILL after 10 s, said on stderr),
# waits for it and removes it from `pids` (so that cleanup never signals a reused PID). Returns its
# exit status (143 when SIGTERM ended it without a handler, 137 after SIGKILL).
stop_pid() {
  local pid=$1 rc=0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  if kill -KILL "$pid" 2>/dev/null; then
    echo "pid $pid did not exit within 10 s of SIGTERM: SIGKILLed" >&2
  fi
  wait "$pid" 2>/dev/null || rc=$?
  forget_pid "$pid"
  return "$rc"
}

# http_reply PORT PATH: the whole reply (status line, headers, body) to GET
# http://127.0.0.1:PORT/PATH, without curl (bash's /dev/tcp).
http_reply() {
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3
  cat <&3
  exec 3<&-
}
# http_get PORT PATH: the body of the reply.
http_get() {
  local reply
  reply=$(http_reply "$1" "$2") || return 1
  printf '%s\n' "${reply#*$'\r\n\r\n'}"
}
# http_status PORT PATH: the reply's status code (200, 503, ...).
http_status() {
  local reply
  reply=$(http_reply "$1" "$2") || return 1
  reply=${reply%%$'\r\n'*}
  reply=${reply#* }
  echo "${reply%% *}"
}
