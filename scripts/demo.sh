#!/usr/bin/env bash
# The main job: a real Mosquitto (Debian's package) on a free loopback port, twind and twin-sim.
# twin-sim runs the seed plant G(s)=1/(s+1) under its PI loop for 8 s and wears it at t=3 s
# (pole -1 -> -2); twind, subscribed beside it, raises the divergence alert. Every process this
# script starts is stopped by its PID when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

source scripts/lib/broker.sh
init_work

start_broker "$work"
broker=$BROKER_URI
echo "== mosquitto $(/usr/sbin/mosquitto -h 2>/dev/null | head -n1 | awk '{print $3}') on $broker (pid $BROKER_PID)"

mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t 'twin/#' -v >"$work/twin.log" &
pids+=($!)
start_twind config/twind.yaml
twind_pid=$TWIND_PID
echo "== twind $(build/twind --version | awk '{print $2}') watching asset 'plant' (pid $twind_pid)"

# twind's alert lines, interleaved in time with twin-sim's own output.
# (tail ends with twind, so nothing is left holding the terminal.)
tail -n +1 -F --pid="$twind_pid" "$work/twind.log" 2>/dev/null |
  grep --line-buffered -E 'ALERT|cleared' | sed -u -E 's/^[0-9T:.-]+ [a-z]+ //' &
build/twin-sim --broker "$broker" --duration 8 --wear-at 3 | tee "$work/sim.log"
sleep 0.6  # the last tick's state

kill -TERM "$twind_pid"
wait "$twind_pid" && rc=0 || rc=$?
echo "== twind stopped on SIGTERM with exit code $rc"
sleep 0.2

states=$(grep -c '^twin/state ' "$work/twin.log" || true)
in_alert=$(grep '^twin/state ' "$work/twin.log" | grep -c '"status":"alert"' || true)
wear=$(sed -nE 's/.*wear injected.*unix time ([0-9.]+).*/\1/p' "$work/sim.log" | head -n1)
first=$(grep '^twin/alert ' "$work/twin.log" | grep '"state":"raised"' | head -n1 |
  sed -nE 's/.*"ts":([0-9.e+]+).*/\1/p')
echo "== summary"
echo "twin/state messages: $states, of which in alert: $in_alert"
if [[ -n $first && -n $wear ]]; then
  awk -v a="$first" -v w="$wear" 'BEGIN { printf "first alert %.0f ms after the wear\n", (a - w) * 1000 }'
else
  echo "no divergence alert was raised"
  exit 1
fi
grep -m1 '^twin/status ' "$work/twin.log" >/dev/null && echo "twin/status: $(grep '^twin/status ' "$work/twin.log" | tail -n1 | cut -d' ' -f2-)"
