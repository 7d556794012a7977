#!/usr/bin/env bash
# Prepares a Debian 12 machine to build docker/Dockerfile and run docker-compose.yml with podman
# (what scripts/container-test.sh and `ctest -L container` do), with no Docker engine and without
# any container registry: everything comes from Debian's package archive.
#
#   1. Installs podman, runc, podman-compose, netavark, aardvark-dns and iptables (a network per
#      compose project, in which the services reach each other by name), debootstrap and
#      mosquitto-clients.
#   2. Where the machine refuses to raise resource limits (a sandbox or a container without
#      CAP_SYS_RESOURCE), writes /etc/containers/containers.conf.d/50-twind-ulimits.conf: podman
#      otherwise raises every container's open-file and process limits far above the machine's
#      hard limits, and the OCI runtime's setrlimit fails ("setrlimit RLIMIT_NPROC: Operation not
#      permitted") before the container starts. It asks for 4096 of each instead, which twind,
#      twin-sim and Mosquitto need far less than. Machines that can raise limits are left alone.
#   3. Makes the images the recipes start from, if they are absent:
#        debian:bookworm        a minimal bookworm made by debootstrap from the machine's Debian
#                               mirror (apt sources as in the official image: bookworm, -updates,
#                               -security);
#        debian:bookworm-slim   the same without documentation, manuals and locales, as the
#                               official slim image;
#        eclipse-mosquitto:2    a stand-in with the official image's layout and command (Debian's
#                               mosquitto, its configuration at /mosquitto/config/mosquitto.conf,
#                               data in /mosquitto/data, port 1883), labelled as such.
#      An image already there (for example the official ones, pulled beforehand with
#      `podman pull`) is kept.
#
# Idempotent: a second run installs nothing and makes nothing. Needs root.
#   scripts/container-images.sh           DEBIAN_MIRROR=URL overrides the mirror
set -euo pipefail
if [[ $(id -u) -ne 0 ]]; then
  echo "container-images: needs root (installs packages, writes /etc/containers)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive

pkgs=(podman runc podman-compose netavark aardvark-dns iptables debootstrap mosquitto-clients)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "container-images: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

limits=/etc/containers/containers.conf.d/50-twind-ulimits.conf
# podman asks for 1048576 open files and 4194304 processes: can this machine raise its limits?
if ! (ulimit -Hn 1048576 && ulimit -Hu 4194304) 2>/dev/null && [[ ! -e $limits ]]; then
  echo "container-images: this machine cannot raise resource limits: $limits lowers podman's"
  mkdir -p "$(dirname "$limits")"
  cat >"$limits" <<'EOF'
# Written by twind's scripts/container-images.sh: this machine may not raise resource limits
# (no CAP_SYS_RESOURCE), so podman's defaults (1048576 open files, 4194304 processes) make every
# container fail to start. Delete this file on a machine that can raise them.
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
EOF
fi

mirror=${DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
  # The machine's own mirror (one-line or deb822 sources), not its security archive.
  mirror=$(grep -rhoE 'https?://[^ ]+/debian/?([[:space:]]|$)' /etc/apt/sources.list \
    /etc/apt/sources.list.d/ 2>/dev/null | tr -d '[:space:]' | grep -v security | head -1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi
mirror=${mirror%/}

if ! podman image exists docker.io/library/debian:bookworm; then
  echo "container-images: debootstrap of bookworm from $mirror"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
  cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
EOF
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | podman import -q --change 'CMD ["bash"]' - docker.io/library/debian:bookworm \
    >/dev/null
  rm -rf "$root"
  trap - EXIT
fi
if ! podman image exists docker.io/library/debian:bookworm-slim; then
  # As the official slim image: no documentation but the copyrights, no manuals, no locales;
  # dpkg told to leave them out of later installs too. Flattened by export and import.
  echo "container-images: bookworm-slim from bookworm"
  slim=$(podman create --network none docker.io/library/debian:bookworm sh -c '
    printf "%s\n" "path-exclude /usr/share/doc/*" "path-include /usr/share/doc/*/copyright" \
      "path-exclude /usr/share/man/*" "path-exclude /usr/share/groff/*" \
      "path-exclude /usr/share/info/*" "path-exclude /usr/share/lintian/*" \
      "path-exclude /usr/share/linda/*" "path-exclude /usr/share/locale/*" \
      "path-include /usr/share/locale/locale.alias" >/etc/dpkg/dpkg.cfg.d/docker-slim
    find /usr/share/doc -xdev -not -name copyright -not -type d -delete
    find /usr/share/doc -mindepth 1 -type d -empty -delete
    rm -rf /usr/share/man/* /usr/share/groff/* /usr/share/info/* /usr/share/lintian/* \
      /usr/share/linda/*
    find /usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +')
  podman start -a "$slim" >/dev/null
  podman export "$slim" | podman import -q --change 'CMD ["bash"]' - \
    docker.io/library/debian:bookworm-slim >/dev/null
  podman rm "$slim" >/dev/null
fi

if ! podman image exists docker.io/library/eclipse-mosquitto:2; then
  echo "container-images: eclipse-mosquitto:2 stand-in from Debian's mosquitto"
  log=$(mktemp)
  podman build --format docker -t docker.io/library/eclipse-mosquitto:2 - >"$log" 2>&1 <<'EOF' ||
FROM docker.io/library/debian:bookworm-slim
LABEL org.opencontainers.image.description="Stand-in for eclipse-mosquitto:2 made by twind's scripts/container-images.sh from Debian's mosquitto"
RUN apt-get update \
 && apt-get install -y --no-install-recommends mosquitto mosquitto-clients \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /mosquitto/config /mosquitto/data /mosquitto/log \
 && printf 'listener 1883\nallow_anonymous true\npersistence true\npersistence_location /mosquitto/data/\n' \
      >/mosquitto/config/mosquitto.conf \
 && chown -R mosquitto:mosquitto /mosquitto
VOLUME ["/mosquitto/data", "/mosquitto/log"]
EXPOSE 1883
CMD ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]
EOF
    { tail -20 "$log"; rm -f "$log"; echo "container-images: the mosquitto image failed" >&2; exit 1; }
  rm -f "$log"
fi
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' |
  grep -E '/(debian|eclipse-mosquitto):' || true
