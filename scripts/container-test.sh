#!/usr/bin/env bash
# Builds docker/Dockerfile with podman, runs docker-compose.yml with podman-compose, and checks
# from the host what the two files promise (label `container`: ctest -L container):
#   - twind's /healthz answers 200 on the published port, and the image's HEALTHCHECK (run by
#     `podman healthcheck run`) and Mosquitto's pass;
#   - twin/state arrives every tick (states counted over a window on the published broker port,
#     compared with the tick of config/twind.yaml; their seq numbers have no gap);
#   - MQTT.js (tests/web's, as browser dashboards use it) receives twin/state through the
#     published WebSockets port;
#   - twin-sim's wear raises a divergence alert on twin/alert;
#   - the `monitoring` profile's Prometheus (docker/prometheus.Dockerfile, Debian's prometheus)
#     scrapes twind through the compose network, loads monitoring/prometheus/rules, and fires
#     TwinInAlert for the worn plant (its Grafana, an official image, is not run: no registry);
#   - twind and twin-sim run as an unprivileged user on a read-only root filesystem (/tmp alone
#     writable), Prometheus as an unprivileged user on a read-only root;
#   - `compose down -v` leaves no container, pod, volume or network of the project.
# Prints the image's size, the time from `up` to healthy, the states and alerts seen.
#
# Everything it starts is its own: a compose project named after this process, host ports nobody
# listens on (loopback only), the image localhost/twind:container-test and its build stage
# localhost/twind:container-test-build, and localhost/twind-prometheus:container-test (kept: they
# are the next run's build cache; the images they replace are removed). On exit, whatever
# happened, it stops and removes the project's containers, volumes and network and its
# subscriber (after printing the services' last log lines when a check failed).
#
# Needs root, podman and podman-compose, and the base images (scripts/container-images.sh makes
# all of that), node and tests/web's npm packages (scripts/setup.sh); without them it exits 77
# (skipped). Exit 1 when a check fails.
#   scripts/container-test.sh      TWIN_SIM_WEAR_AT=SECONDS (15) sets when twin-sim wears the plant
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/broker.sh
source scripts/lib/measure.sh
source scripts/lib/podman.sh
say() { echo "container-test: $*"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }

podman_ready debian:bookworm debian:bookworm-slim eclipse-mosquitto:2
if ! command -v node >/dev/null || [[ ! -f tests/web/node_modules/mqtt/package.json ]]; then
  skip "no node or no MQTT.js in tests/web/node_modules (scripts/setup.sh installs them)"
fi

started=$(now)
init_work
project=twind-container-test-$$
compose=(podman-compose -p "$project" -f docker-compose.yml)
wear_at=${TWIN_SIM_WEAR_AT:-15}
on_exit() {
  show_logs
  teardown mosquitto-data prometheus-data
  cleanup_work
}
trap on_exit EXIT

# --- build -----------------------------------------------------------------------------------
images_before "$image" "$image-build" "$prom_image"
t=$(now)
# Then Prometheus' image (the monitoring profile's), with docker/ as its context as in the file.
build_images "$work/build.log" "$image" docker/prometheus.Dockerfile "$prom_image"
build_s=$(since "$t")
images_prune
size=$(podman image inspect --format '{{.Size}}' "$image")
base=$(podman image inspect --format '{{.Size}}' docker.io/library/debian:bookworm-slim)
say "image $image: $((size / 1000000)) MB, of which $(((size - base) / 1000000)) MB on top of" \
  "debian:bookworm-slim (build ${build_s} s)"
prom_size=$(podman image inspect --format '{{.Size}}' "$prom_image")
say "image $prom_image: $((prom_size / 1000000)) MB"

# --- up --------------------------------------------------------------------------------------
free_ports 4
mqtt_port=${ports[0]} http_port=${ports[1]} ws_port=${ports[2]} prom_port=${ports[3]}
export TWIND_IMAGE=$image TWIND_MQTT_PORT=$mqtt_port TWIND_HTTP_PORT=$http_port
export TWIND_WS_PORT=$ws_port
export TWIND_PROMETHEUS_IMAGE=$prom_image TWIND_PROMETHEUS_PORT=$prom_port
export TWIN_SIM_WEAR_AT=$wear_at
t_up=$(now)
up=1
# The services by name: podman-compose 1.0 ignores `profiles` and would start every service,
# Grafana's official image too, which cannot be pulled here. Prometheus, of the monitoring
# profile, is named; `docker compose --profile monitoring up` starts it the same way.
services=(mosquitto twind twin-sim prometheus)
"${compose[@]}" up -d "${services[@]}" >"$work/up.log" 2>&1 ||
  { quiet <"$work/up.log"; fail "compose up"; }
running "${services[@]}"
if ((failures)); then
  quiet <"$work/up.log" | tail -20
  exit 1
fi

# The subscriber, as soon as the broker's published port takes clients (well before the wear).
deadline=$(($(date +%s) + 60))
until mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -E -t probe -W 2 >/dev/null 2>&1; do
  (($(date +%s) < deadline)) || { fail "the broker's port $mqtt_port takes no client"; exit 1; }
  sleep 0.2
done
mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -v -t twin/state -t twin/alert >"$work/twin.log" &
pids+=($!)

code=""
deadline=$(($(date +%s) + 120))
while [[ $code != 200 ]]; do
  (($(date +%s) < deadline)) || { fail "/healthz answered '${code:-nothing}' for 120 s"; exit 1; }
  sleep 0.2
  code=$(http_status "$http_port" /healthz 2>/dev/null || true)
done
healthy_s=$(since "$t_up")
say "up -> /healthz 200 on 127.0.0.1:$http_port: ${healthy_s} s"
for service in twind mosquitto; do
  podman healthcheck run "$(container "$service")" >/dev/null 2>&1 ||
    fail "$service: its HEALTHCHECK fails (podman healthcheck run)"
done
check=$(podman inspect --format \
  '{{if .Config.Healthcheck}}{{index .Config.Healthcheck.Test 0}}{{end}}' "$(container twin-sim)") ||
  check="?"
[[ -z $check || $check == NONE ]] || fail "twin-sim has a HEALTHCHECK ($check)"

# --- twin/state every tick -------------------------------------------------------------------
tick=$(sed -nE 's/^tick:[[:space:]]*([0-9.]+)(ms|s).*/\1 \2/p' config/twind.yaml)
tick_s=$(awk -v v="${tick% *}" -v u="${tick#* }" 'BEGIN {print (u == "ms") ? v / 1000 : v}')
window=10
n0=$(grep -c '^twin/state ' "$work/twin.log" || true)
sleep "$window"
n1=$(grep -c '^twin/state ' "$work/twin.log" || true)
states=$((n1 - n0))
expected=$(awk -v w="$window" -v t="$tick_s" 'BEGIN {printf "%.0f", w / t}')
say "twin/state: $states in ${window} s (tick ${tick_s} s: $expected expected)"
awk -v n="$states" -v e="$expected" 'BEGIN {exit !(n >= 0.8 * e && n <= 1.2 * e + 1)}' ||
  fail "$states states in ${window} s, expected $expected (one a tick) within 20 %"
# (`|| true`: grep finding nothing is for the checks to report, not a reason to stop.)
gaps=$(grep '^twin/state ' "$work/twin.log" | grep -o '"seq":[0-9]*' | cut -d: -f2 |
  awk 'NR > 1 && $1 != prev + 1 {g++} {prev = $1} END {print g + 0}') || true
[[ $gaps -eq 0 ]] || fail "twin/state's seq has $gaps gaps"

# --- MQTT over WebSockets (docs/dashboards.md) ------------------------------------------------
# A dashboard's client subscribes through the published WebSockets port and prints the first
# state's asset and seq.
ws_probe='import mqtt from "mqtt";
const c = mqtt.connect(process.argv[1], { protocolVersion: 4, reconnectPeriod: 0 });
const give_up = setTimeout(() => { console.log("no twin/state within 15 s"); process.exit(1); }, 15000);
c.on("error", (e) => { console.log(e.message); process.exit(1); });
c.on("connect", () => c.subscribe("twin/state"));
c.on("message", (t, p) => {
  const s = JSON.parse(p.toString());
  console.log("asset " + s.asset + ", seq " + s.seq);
  clearTimeout(give_up);
  c.end();
});'
if ws_state=$(cd tests/web && node --input-type=module -e "$ws_probe" "ws://127.0.0.1:$ws_port" 2>&1); then
  say "twin/state over ws://127.0.0.1:$ws_port (MQTT.js): $ws_state"
else
  fail "no twin/state over ws://127.0.0.1:$ws_port: $ws_state"
fi

# --- twin-sim's wear raises an alert ---------------------------------------------------------
raised='^twin/alert .*"id":"divergence".*"state":"raised"'
deadline=$(($(date +%s) + wear_at + 60))
until grep -qE "$raised" "$work/twin.log"; do
  (($(date +%s) < deadline)) || { fail "no divergence alert on twin/alert"; break; }
  sleep 0.2
done
alerts=$(grep '^twin/alert ' "$work/twin.log" | grep -oE '"id":"[a-z_]+"|"state":"[a-z]+"' |
  cut -d'"' -f4 | paste -d' ' - - | paste -sd, - | sed 's/,/, /g') || true
say "twin/alert: ${alerts:-none} (twin-sim wears the plant ${wear_at} s after it starts)"

# --- the monitoring profile's Prometheus -----------------------------------------------------
# Its answers read with tests/monitoring/prom.py (python3, which scripts/setup.sh installs).
prom_url=http://127.0.0.1:$prom_port
prom() { /usr/bin/python3 tests/monitoring/prom.py "$prom_url" "$@"; }
wear=$(podman logs "$(container twin-sim)" 2>&1 |
  sed -nE 's/.*wear injected.*unix time ([0-9.]+).*/\1/p' | head -1) || true
if [[ -z $wear ]]; then
  fail "twin-sim's log has no 'wear injected' line"
elif prom ready 30 && prom target_up 30; then
  # Everything in the rules file loaded and evaluated without error.
  rules=$(/usr/bin/python3 -c 'import json, sys, urllib.request
groups = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v1/rules"))["data"]["groups"]
rules = [r for g in groups for r in g["rules"]]
ok = sum(r["health"] == "ok" for r in rules)
print(len(rules), ok, " ".join(sorted(g["name"] for g in groups)))' \
    "$prom_url") || rules="? ? ?"
  read -r n_rules n_ok group_names <<<"$rules"
  expected=$(grep -cE '^      - (record|alert):' monitoring/prometheus/rules/twind.rules.yml)
  [[ $n_rules == "$expected" && $n_ok == "$expected" ]] ||
    fail "Prometheus has $n_rules rules ($n_ok healthy), the rules file $expected"
  say "prometheus: target twind:9100 up, $n_rules rules loaded ($group_names), $n_ok healthy"
  prom fires TwinInAlert plant "$wear" 60 | sed 's/^prom: /container-test: prometheus: /' ||
    fail "TwinInAlert did not fire in the compose project's Prometheus"
else
  fail "the monitoring profile's Prometheus did not scrape twind"
fi

# --- unprivileged, read-only -----------------------------------------------------------------
for service in twind twin-sim; do
  unprivileged "$service"
  c=$(container "$service")
  if podman exec "$c" sh -c ': >/usr/bin/twind-probe' 2>/dev/null; then
    fail "$service can write to /usr/bin"
  fi
  podman exec "$c" sh -c ': >/tmp/twind-probe' 2>/dev/null || fail "$service cannot write /tmp"
  say "$service: uid $uid, read-only root filesystem, /tmp writable"
done
unprivileged prometheus
say "prometheus: uid $uid, read-only root filesystem"

# --- down ------------------------------------------------------------------------------------
show_logs
compose_down mosquitto-data prometheus-data

say "total $(since "$started") s"
if ((failures)); then
  echo "container-test: $failures check(s) failed"
  exit 1
fi
echo "container-test: ok"
