#!/usr/bin/env bash
# Installs everything twind needs to build, test and run its demo on Debian 12 (bookworm);
# `--build` only what builds the two executables (docker/Dockerfile's build stage).
# Idempotent: packages already present are skipped, so a second run costs a dpkg query.
# Used by the README, by .ci/run and by docker/Dockerfile's build stage, so the path that
# is tested is the path that ships.
set -euo pipefail

# What compiles twind and twin-sim (a build with -DTWIND_BUILD_TESTS=OFF
# -DTWIND_BUILD_BENCHMARKS=OFF, as docker/Dockerfile's build stage makes).
BUILD_PKGS=(
  build-essential cmake ninja-build pkg-config
  libpaho-mqttpp-dev libpaho-mqtt-dev libssl-dev
  nlohmann-json3-dev libeigen3-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libcli11-dev libcpp-httplib-dev libsystemd-dev
)
RUNTIME_PKGS=(mosquitto mosquitto-clients)
# The test and benchmark libraries; ccache for repeated builds; systemd-analyze checks the unit in
# tests (no systemd needs to run); openssl makes test certificates; clang and its runtime
# libraries build the libFuzzer targets (scripts/fuzz.sh). prometheus brings promtool and the
# server that tests/monitoring checks monitoring/'s configuration, rules and dashboard queries
# with (its service is not started: see policy-rc.d below; without recommends, so no
# prometheus-node-exporter, whose default port is twind's); python3 reads the dashboard and
# Prometheus' JSON answers there.
TEST_PKGS=(libgtest-dev libgmock-dev libbenchmark-dev ccache systemd openssl clang
  libclang-rt-14-dev prometheus python3)

want=("${BUILD_PKGS[@]}" "${RUNTIME_PKGS[@]}" "${TEST_PKGS[@]}")
case "${1:-}" in
  --runtime-only) want=("${RUNTIME_PKGS[@]}") ;;  # run twind and the demo's broker
  --build) want=("${BUILD_PKGS[@]}") ;;           # build twind and twin-sim only
  "") ;;
  *) echo "usage: $0 [--build | --runtime-only]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#want[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# policy-rc.d keeps the mosquitto and prometheus packages from starting their system services on
# install where no systemd runs (their init scripts would take ports 1883 and 9090): tests and
# the demo start their own on free loopback ports.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
