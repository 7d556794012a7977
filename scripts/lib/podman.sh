# shellcheck shell=bash
# Shared by the container tests (scripts/container-test.sh, scripts/container-cluster-test.sh):
# what they need before they start, twind's image built from docker/Dockerfile, and a compose
# project torn down whatever happened. Source it after broker.sh and measure.sh; the script sets
# `project` (its compose project's name) and `compose` (the podman-compose command line) before
# it calls the functions that use them, and defines say() (its own prefix).
#
#   image, prom_image, nats_image  the tags of twind's, Prometheus' and nats-server's test images
#   skip WHY                 prints SKIP and exits 77
#   fail WHAT                prints FAIL and counts it in `failures`
#   quiet                    filters podman's noise on a machine without systemd
#   podman_ready IMAGE...    skips unless root, podman, podman-compose, mosquitto_sub, the base
#                            images IMAGE... (docker.io/library/...) and a container that starts
#   images_before TAG...     notes the images the tags name now; images_prune removes those the
#                            tags no longer name (kept: the next run's build cache)
#   build_images LOG TAG [DOCKERFILE TAG]...  docker/Dockerfile into TAG (its build stage into
#                            TAG-build), then each DOCKERFILE with docker/ as its context; on a
#                            failure, the log's end and FAIL, and exit 1
#   unprivileged SERVICE     fails unless the service's container runs as a user other than root
#                            on a read-only root filesystem; sets `uid`
#   running SERVICE...       fails each service whose container is not running and notes its
#                            anonymous volumes (in `anonymous`, for teardown)
#   container SERVICE        the container's name in the project
#   show_logs                the services' last log lines, once, when a check has failed
#   teardown [VOLUME...]     removes the project's containers, named volumes VOLUME... (without the
#                            project prefix), anonymous volumes, network and pod; silent, safe twice
failures=0
up=0
anonymous=()
# The images the container tests run, built by build_images (scripts/container-build.sh builds
# all three ahead of the tests); kept between runs as the next run's build cache.
# shellcheck disable=SC2034  # read by the scripts that source this file
image=localhost/twind:container-test prom_image=localhost/twind-prometheus:container-test \
  nats_image=localhost/twind-nats:container-test

skip() {
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
# podman and podman-compose without the noise of a machine without systemd (no timers for
# healthchecks: the tests run them) and of Debian's unused CNI configuration.
quiet() { grep -v -e 'systemd connection' -e 'CNI config' -e 'connect to syslog' || true; }

podman_ready() {
  local tool base
  [[ $(id -u) -eq 0 ]] || skip "needs root (rootful podman; scripts/container-images.sh sets it up)"
  for tool in podman podman-compose mosquitto_sub; do
    command -v "$tool" >/dev/null || skip "no $tool (scripts/container-images.sh installs it)"
  done
  for base in "$@"; do
    podman image exists "docker.io/library/$base" 2>/dev/null ||
      skip "no image $base (scripts/container-images.sh makes it)"
  done
  if ! podman run --rm --network none docker.io/library/debian:bookworm true >/dev/null 2>&1; then
    skip "podman cannot start a container here (see scripts/container-images.sh on resource limits)"
  fi
}

images_before() {
  image_tags=("$@")
  mapfile -t image_ids < <(podman image inspect --format '{{.Id}}' "$@" 2>/dev/null || true)
}
images_prune() {
  local current id
  current=$(podman image inspect --format '{{.Id}}' "${image_tags[@]}")
  for id in "${image_ids[@]}"; do
    # With the layers only it used; an image a container still uses stays.
    grep -qx "$id" <<<"$current" || podman rmi "$id" >/dev/null 2>&1 || true
  done
}

# Docker's format: the OCI format has no HEALTHCHECK. Both stages at once: the runtime stage's
# packages install while the build stage compiles. Then the build stage alone (from the cache),
# tagged so that what an earlier run's build stage left can be found and removed.
build_images() {
  local log=$1 tag=$2
  shift 2
  if podman build --format docker --jobs 2 -f docker/Dockerfile -t "$tag" . >>"$log" 2>&1 &&
    podman build --format docker --target build -f docker/Dockerfile -t "$tag-build" . \
      >>"$log" 2>&1; then
    while (($# >= 2)); do
      podman build --format docker -f "$1" -t "$2" docker >>"$log" 2>&1 || break
      shift 2
    done
    (($# == 0)) && return 0
  fi
  tail -40 "$log"
  echo "FAIL: podman build"
  exit 1
}

unprivileged() {
  local c
  c=$(container "$1")
  uid=$(podman exec "$c" id -u 2>/dev/null || echo "?")
  [[ $uid =~ ^[0-9]+$ && $uid -ne 0 ]] || fail "$1 runs as uid $uid"
  [[ $(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$c") == true ]] ||
    fail "$1's root filesystem is not read-only"
}

container() { echo "${project}_$1_1"; }

running() {
  local service state
  for service in "$@"; do
    state=$(podman inspect --format '{{.State.Status}}' "$(container "$service")" 2>/dev/null || true)
    [[ $state == running ]] || fail "$service is '${state:-absent}', not running"
    # Anonymous volumes (the Mosquitto image declares some): `down -v` must take them too.
    mapfile -t -O "${#anonymous[@]}" anonymous < <(podman inspect --format \
      '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}}{{"\n"}}{{end}}{{end}}' \
      "$(container "$service")" 2>/dev/null | grep -E '^[0-9a-f]{64}$' || true)
  done
}

said=0
show_logs() {
  local c
  ((failures && up && !said)) || return 0
  said=1
  for c in $(podman ps -aq --filter "label=io.podman.compose.project=$project" 2>/dev/null); do
    echo "--- $(podman inspect --format '{{.Name}}' "$c" 2>/dev/null), last lines of its log:"
    podman logs --tail 15 "$c" 2>&1 | quiet
  done
}

teardown() {
  local c v
  if ((up)); then "${compose[@]}" down -v >"$work/down-again.log" 2>&1 || true; fi
  for c in $(podman ps -aq --filter "label=io.podman.compose.project=$project" 2>/dev/null); do
    podman rm -f -v "$c" >/dev/null 2>&1 || true
  done
  for v in "$@"; do podman volume rm -f "${project}_$v" >/dev/null 2>&1 || true; done
  for v in "${anonymous[@]}"; do podman volume rm -f "$v" >/dev/null 2>&1 || true; done
  podman network rm -f "${project}_default" >/dev/null 2>&1 || true
  podman pod rm -f "pod_$project" >/dev/null 2>&1 || true
  up=0
}

# compose_down VOLUME...: `compose down -v`, timed, then checks that nothing of the project is
# left (containers, the named volumes VOLUME..., a pod); what podman-compose 1.0 (Debian 12)
# leaves and `docker compose down -v` does not (the network, anonymous volumes) is removed and
# said. Prints one line.
compose_down() {
  local t down_s left v leftovers=() msg
  t=$(now)
  "${compose[@]}" down -v >"$work/down.log" 2>&1 || { quiet <"$work/down.log"; fail "compose down"; }
  down_s=$(since "$t")
  left=$(podman ps -aq --filter "label=io.podman.compose.project=$project")
  [[ -z $left ]] || fail "compose down left containers: $left"
  for v in "$@"; do
    if podman volume exists "${project}_$v"; then fail "compose down left its volume $v"; fi
  done
  if podman pod exists "pod_$project"; then fail "compose down left a pod"; fi
  if podman network exists "${project}_default"; then leftovers+=("network"); fi
  for v in "${anonymous[@]}"; do
    if podman volume exists "$v"; then leftovers+=("volume ${v:0:12}"); fi
  done
  up=0
  teardown "$@"
  for v in "${anonymous[@]}"; do
    if podman volume exists "$v"; then fail "volume $v remains"; fi
  done
  if podman network exists "${project}_default"; then fail "network ${project}_default remains"; fi
  msg="down -v: ${down_s} s"
  if ((${#leftovers[@]})); then msg+="; left by podman-compose and removed here: ${leftovers[*]}"; fi
  say "$msg; nothing of $project is left"
}

# free_ports N: N distinct free loopback ports into the array `ports`.
free_ports() {
  local p
  ports=()
  while ((${#ports[@]} < $1)); do
    p=$(free_port)
    [[ " ${ports[*]} " == *" $p "* ]] || ports+=("$p")
  done
}
