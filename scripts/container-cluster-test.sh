#!/usr/bin/env bash
# Builds the images of docker/compose.cluster.yml with podman (twind's from docker/Dockerfile, the
# nats-server node's from docker/nats.Dockerfile), runs the file with podman-compose and checks
# from the host what it promises (label `container`: ctest -L container):
#   - the three nats-server nodes and the three twind replicas pass their images' HEALTHCHECKs,
#     and each replica's /healthz answers 200 on its published port;
#   - shared: every plant of twin-sim's fleet of 3,000 is held by exactly one replica (their /state
#     on the published HTTP ports), each within +-20 % of an even share;
#   - wear: every wearing plant's divergence alert reaches a subscriber of twin/+/alert on node
#     3's published port, and no healthy plant's;
#   - a node's loss: `podman kill` of nats-1, the first node of replica-1's list: the replicas on
#     it move to the others and the fleet is shared by three again (printed: how long); the node is
#     started again;
#   - a replica's loss: `podman kill` of twind-2: the survivors hold the whole fleet (printed: how
#     long); its restart policy brings it back, or it is started, and the fleet is shared by three;
#   - the replicas and the nodes run as unprivileged users on read-only root filesystems;
#   - `compose down -v` leaves no container, pod, volume or network of the project.
#
# Everything it starts is its own: a compose project named after this process, host ports nobody
# listens on (loopback only), the images localhost/twind:container-test (and its build stage,
# shared with scripts/container-test.sh: whichever runs second builds from the cache) and
# localhost/twind-nats:container-test (kept as the next run's cache). On exit, whatever happened,
# it removes the project's containers, volumes and network and stops its subscriber.
#
# Needs root, podman, podman-compose and the base images (scripts/container-images.sh); without
# them it exits 77 (skipped). Exit 1 when a check fails.
#   scripts/container-cluster-test.sh    TWIN_SIM_WEAR_AT=SECONDS (20): when twin-sim's plants wear
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/broker.sh
source scripts/lib/measure.sh
source scripts/lib/nats.sh
source scripts/lib/podman.sh
say() { echo "container-cluster-test: $*"; }

podman_ready debian:bookworm debian:bookworm-slim

started=$(now)
init_work
project=twind-cluster-test-$$
compose=(podman-compose -p "$project" -f docker/compose.cluster.yml)
wear_at=${TWIN_SIM_WEAR_AT:-20}
assets=3000 wearing=30  # the file's twin-sim
volumes=(nats-1-data nats-2-data nats-3-data)
on_exit() {
  show_logs
  teardown "${volumes[@]}"
  cleanup_work
}
trap on_exit EXIT

# --- build -----------------------------------------------------------------------------------
images_before "$image" "$image-build" "$nats_image"
t=$(now)
build_images "$work/build.log" "$image" docker/nats.Dockerfile "$nats_image"
say "images built in $(since "$t") s; $nats_image:" \
  "$(($(podman image inspect --format '{{.Size}}' "$nats_image") / 1000000)) MB"
images_prune

# --- up --------------------------------------------------------------------------------------
free_ports 6
mqtt=("" "${ports[@]:0:3}") http=("" "${ports[@]:3:3}")
export TWIND_IMAGE=$image TWIND_NATS_IMAGE=$nats_image TWIN_SIM_WEAR_AT=$wear_at
for i in 1 2 3; do
  export "TWIND_NATS_MQTT_PORT_$i=${mqtt[i]}" "TWIND_HTTP_PORT_$i=${http[i]}"
done
services=(nats-1 nats-2 nats-3 twind-1 twind-2 twind-3 twin-sim)
t_up=$(now)
up=1
"${compose[@]}" up -d >"$work/up.log" 2>&1 || { quiet <"$work/up.log"; fail "compose up"; }
running "${services[@]}"
if ((failures)); then
  quiet <"$work/up.log" | tail -20
  exit 1
fi

# The subscriber on node 3 (persistent, QoS 1), as soon as its port takes clients.
wait_for 90 mosquitto_sub -h 127.0.0.1 -p "${mqtt[3]}" -E -t probe -W 2 ||
  { fail "node 3's port ${mqtt[3]} takes no client"; exit 1; }
mosquitto_sub -h 127.0.0.1 -p "${mqtt[3]}" -i "cluster-test-$$" -c -q 1 -t 'twin/+/alert' \
  >"$work/alerts.log" 2>"$work/sub.err" &
pids+=($!)

healthy() { [[ $(http_status "${http[$1]}" /healthz 2>/dev/null || true) == 200 ]]; }
for i in 1 2 3; do
  wait_for 120 healthy "$i" || fail "replica-$i: /healthz did not answer 200 within 120 s"
done
say "up -> three replicas' /healthz 200: $(since "$t_up") s"
for service in nats-1 nats-2 nats-3 twind-1 twind-2 twind-3; do
  podman healthcheck run "$(container "$service")" >/dev/null 2>&1 ||
    fail "$service: its HEALTHCHECK fails (podman healthcheck run)"
done

# --- shared ----------------------------------------------------------------------------------
live=(1 2 3)
shared() { fleet_shared "$assets" "$@"; }
counts() { fleet_counts; }
t=$(now)
if wait_for 60 shared 0.8; then
  say "shared: every plant held by one replica within $(since "$t") s of healthy: $(counts)"
else
  fail "the fleet was not shared by three within 60 s: $(counts)"
fi

# --- wear ------------------------------------------------------------------------------------
raised() {
  python3 - "$work/alerts.log" "$wearing" <<'EOF'
import json, sys
n = int(sys.argv[2])
seen = set()
for line in open(sys.argv[1]):
    try:
        a = json.loads(line)
    except ValueError:
        continue
    if a.get("id") == "divergence" and a.get("state") == "raised":
        seen.add(a["asset"])
wear = {f"p{k:05d}" for k in range(n)}
healthy = seen - wear
if healthy:
    print("healthy plants alerted:", " ".join(sorted(healthy)[:10]))
    sys.exit(2)
sys.exit(0 if wear <= seen else 1)
EOF
}
sim_start=$(podman inspect --format '{{.State.StartedAt}}' "$(container twin-sim)")
t=$(now)
rc=0
wait_for $((wear_at + 60)) raised || rc=$?
raised >/dev/null || rc=$?
if ((rc == 0)); then
  say "wear: all $wearing wearing plants alerted, and no other ($(since "$t") s of waiting;" \
    "twin-sim started $sim_start, wears at $wear_at s)"
else
  raised || true
  fail "not every wearing plant alerted, or a healthy one did"
fi

# --- a node's loss ---------------------------------------------------------------------------
# connects I: replica I's connections so far (twind_mqtt_connects_total).
connects() {
  http_get "${http[$1]}" /metrics 2>/dev/null | awk '$1 == "twind_mqtt_connects_total" {print $2}'
}
before=$(connects 1)
podman kill "$(container nats-1)" >/dev/null
t=$(now)
moved() { [[ $(connects 1) =~ ^[0-9]+$ && $(connects 1) -gt ${before:-0} ]]; }
if wait_for 90 moved && wait_for 90 shared 0.8; then
  say "nats-1 killed: replica-1 on another node, the fleet shared by three again after" \
    "$(since "$t") s: $(counts)"
else
  fail "after nats-1's loss the fleet was not shared by three within 90 s: $(counts)"
fi
podman start "$(container nats-1)" >/dev/null 2>&1 || true
node_up() { podman healthcheck run "$(container nats-1)" >/dev/null 2>&1; }
wait_for 90 node_up || fail "nats-1 did not come back healthy"

# --- a replica's loss ------------------------------------------------------------------------
podman kill "$(container twind-2)" >/dev/null
t=$(now)
live=(1 3)
if wait_for 60 shared; then
  say "twind-2 killed: replicas 1 and 3 hold the whole fleet after $(since "$t") s: $(counts)"
else
  fail "after twind-2's loss the survivors did not hold the whole fleet within 60 s: $(counts)"
fi
sleep 2
state=$(podman inspect --format '{{.State.Status}}' "$(container twind-2)" 2>/dev/null || true)
if [[ $state != running ]]; then
  podman start "$(container twind-2)" >/dev/null 2>&1 || fail "twind-2 did not start again"
  how="started again"
else
  how="back by its restart policy"
fi
live=(1 2 3)
t=$(now)
if wait_for 90 shared 0.8; then
  say "twind-2 $how; shared by three again after $(since "$t") s: $(counts)"
else
  fail "twind-2 back: the fleet was not shared by three within 90 s: $(counts)"
fi

# --- unprivileged, read-only -----------------------------------------------------------------
for service in twind-1 nats-1; do
  unprivileged "$service"
  say "$service: uid $uid, read-only root filesystem"
done

# --- down ------------------------------------------------------------------------------------
show_logs
compose_down "${volumes[@]}"

say "total $(since "$started") s"
if ((failures)); then
  echo "container-cluster-test: $failures check(s) failed"
  exit 1
fi
echo "container-cluster-test: ok"
