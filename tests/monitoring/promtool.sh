#!/usr/bin/env bash
# promtool.sh REPO: monitoring/prometheus/ as Prometheus' own checker reads it (Debian's promtool):
# the configuration (and the rule files it names), the rules, and the rules' unit tests, in which
# every recording and alerting rule is tested firing and not firing.
# Exit 0 pass, 1 fail, 77 skipped (no promtool: scripts/setup.sh installs Debian's prometheus).
set -euo pipefail
dir=$1/monitoring/prometheus
if ! command -v promtool >/dev/null; then
  echo "SKIP: no promtool (scripts/setup.sh installs prometheus)"
  exit 77
fi
promtool --version 2>&1 | head -1
promtool check config "$dir/prometheus.yml"
promtool check rules "$dir"/rules/*.yml
promtool test rules "$dir"/tests/*.test.yml
