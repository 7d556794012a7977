#!/usr/bin/env bash
# Installs everything twind needs to build, test and run its demo on Debian 12 (bookworm);
# `--build` only what builds the two executables (docker/Dockerfile's build stage). The full set-up
# also installs the npm packages of the JavaScript tests (tests/web) with npm ci.
# Idempotent: packages already present are skipped, so a second run costs a dpkg query (and a
# checksum of tests/web/package-lock.json).
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
# libraries build the libFuzzer targets (scripts/fuzz.sh); python3's xml.etree checks that the
# figures of `twind plot` are well-formed SVG (tests/app/check_svg.py), and python3 reads the
# dashboard and Prometheus' JSON answers in tests/monitoring; prometheus brings promtool and the
# server tests/monitoring checks monitoring/'s configuration, rules and dashboard queries with
# (its service is not started: see policy-rc.d below; without recommends, so no
# prometheus-node-exporter, whose default port is twind's); Node.js and npm run the JavaScript
# tests (tests/web: MQTT.js over WebSockets, the dashboard in a browser), whose npm packages are
# installed below; chromium is the browser they drive, headless; gdb prints the stacks of a twind
# that a chaos run finds stuck (tests/chaos); nats-server is the NATS cluster whose MQTT listeners
# are the broker of several twind replicas (tests/cluster, scripts/lib/nats.sh: each test starts
# its own nodes on free loopback ports; the package's service is not started, see policy-rc.d).
TEST_PKGS=(libgtest-dev libgmock-dev libbenchmark-dev ccache systemd openssl clang libclang-rt-14-dev
           python3 prometheus nodejs npm chromium gdb nats-server)

want=("${BUILD_PKGS[@]}" "${RUNTIME_PKGS[@]}" "${TEST_PKGS[@]}")
case "${1:-}" in
  --runtime-only) want=("${RUNTIME_PKGS[@]}") ;;  # run twind and the demo's broker
  --build) want=("${BUILD_PKGS[@]}") ;;           # build twind and twin-sim only
  "") ;;
  *) echo "usage: $0 [--build | --runtime-only]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  # A Node.js installed otherwise counts: NodeSource's nodejs package, for one, brings its own npm
  # and conflicts with Debian's npm package.
  case $p in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#want[@]} packages present"
else
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # policy-rc.d keeps the mosquitto, prometheus and nats-server packages from starting their
  # system services on install where no systemd runs (their init scripts would take ports 1883,
  # 9090 and 4222): tests and the demo start their own on free loopback ports.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  echo "setup: done"
fi

# The npm packages of the JavaScript tests, exactly as tests/web/package-lock.json pins them
# (npm ci), for the full set-up only. Skipped while node_modules holds what this very lock file
# installed (a checksum of it, kept in node_modules, which npm ci empties first).
web="$(cd "$(dirname "$0")/.." && pwd)/tests/web"
if [[ -z ${1:-} && -f $web/package-lock.json ]]; then
  lock_sum=$(sha256sum <"$web/package-lock.json")
  stamp=$web/node_modules/.setup-lock.sha256
  if [[ ! -f $stamp || $(<"$stamp") != "$lock_sum" ]]; then
    # The packages are pinned to versions that load on Node.js 18, Debian 12's own nodejs (since
    # 1.62, playwright-core refuses to): a machine with Node.js 20 or later runs them alike.
    echo "setup: npm ci in tests/web"
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$lock_sum" >"$stamp"
  fi
fi
