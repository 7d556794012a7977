#!/usr/bin/env bash
# build.sh DIR [CMAKE ARGS...]: configures (once) and builds twind in DIR with Ninja.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
if [[ ! -f $dir/build.ninja ]]; then
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
elif [[ $# -gt 0 ]]; then
  cmake "$dir" "$@" >/dev/null
fi
cmake --build "$dir" -j "$(nproc)"
