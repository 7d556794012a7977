#!/usr/bin/env bash
# Measures twind's latency over a real broker on this machine: a Debian mosquitto on a free
# loopback port, twind with the seed configuration, and bench/live_latency.cpp publishing the
# deciding telemetry and timing twind's alerts and states. Every process started here is stopped
# by its PID.   bench/live_latency.sh [ROUNDS]   (default 200; about 10 s)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
source scripts/lib/broker.sh
init_work
start_broker "$work"
start_twind config/twind.yaml
echo "broker $BROKER_URI, twind $(build/twind --version | awk '{print $2}'), $(nproc) cores"
build/bench/twind_live_latency "$BROKER_URI" "${1:-200}"
