#!/usr/bin/env bash
# The seed scenario's figure in a real browser: `twind replay --trace` of scenarios/seed.jsonl,
# `twind plot` of its output, and Debian's chromium, headless, driven by playwright-core, opening
# the SVG file. seed_figure.mjs checks that it renders: an SVG of 1200 x 800 with its three
# panels, each drawing a line, and no error in the console. A screenshot goes to ARTIFACTS.
#   seed_figure.sh TWIND CONFIG RECORDING ARTIFACTS
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/lib/sanitizer.sh"
twind=$1 config=$2 recording=$3 artifacts=$4
[[ -f $here/node_modules/playwright-core/package.json ]] ||
  { echo "FAIL: no $here/node_modules/playwright-core (scripts/setup.sh runs npm ci there)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$artifacts"
scanned "twind replay" "$tmp/replay.err" "$twind" replay -c "$config" -i "$recording" --trace \
  -o "$tmp/seed-out.jsonl" || { echo "FAIL: twind replay"; cat "$tmp/replay.err"; exit 1; }
scanned "twind plot" "$tmp/plot.err" "$twind" plot -i "$tmp/seed-out.jsonl" \
  -o "$artifacts/seed-plot.svg" || { echo "FAIL: twind plot"; cat "$tmp/plot.err"; exit 1; }
node "$here/seed_figure.mjs" "$artifacts/seed-plot.svg" "$artifacts/seed-plot.png"
