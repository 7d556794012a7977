#!/usr/bin/env bash
# prometheus_live.sh TWIND TWIN_SIM REPO: monitoring/ against the real programs (label
# integration). A Debian mosquitto on a free loopback port; twind on the seed configuration (its
# output y also watched by a CUSUM, so that the dashboard's CUSUM panel has data) with its HTTP
# listener on a free loopback port; twin-sim wearing the seed plant WEAR_AT s after it starts; a
# real prometheus (Debian's) on a free loopback port with its own storage, running the repository's
# prometheus.yml with the target, the intervals (1 s) and the rules' path rewritten, and the
# repository's rules file as it is. Then, through Prometheus' HTTP API (tests/monitoring/prom.py):
#   - before the wear: the plant ok on every scrape, the rules evaluated, and no alert at all,
#     pending or firing, since Prometheus started;
#   - after it: TwinInAlert fires for the plant, active after the wear, with its severity and
#     annotations naming the plant;
#   - every query of every panel of monitoring/grafana/dashboards/twind.json, with the dashboard's
#     variables at All (and Grafana's $__rate_interval at 10 s), returns data.
# Each process it started is stopped by its PID on exit; twind must exit 0 on SIGTERM with no
# sanitizer report. Exit 0 pass, 1 fail, 77 skipped (no prometheus: scripts/setup.sh installs it).
#   WEAR_AT=SECONDS (default 14) sets when twin-sim wears the plant. Prometheus scrapes its targets
#   about 5 s after it starts (its discovery sends them at most every 5 s): 14 s leaves several
#   scrapes of the healthy plant before the wear.
set -euo pipefail
twind=$(realpath "$1")
twin_sim=$(realpath "$2")
repo=$(realpath "$3")
source "$repo/scripts/lib/broker.sh"
source "$repo/scripts/lib/measure.sh"
source "$repo/scripts/lib/sanitizer.sh"
wear_at=${WEAR_AT:-14}
python=/usr/bin/python3
[[ -x $python ]] || python=python3

for tool in prometheus mosquitto; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || {
    echo "SKIP: no $tool (scripts/setup.sh installs it)"
    exit 77
  }
done

started=$(now)
init_work
say() { echo "prometheus_live: $*"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }
prom() { "$python" "$repo/tests/monitoring/prom.py" "$prom_url" "$@"; }
failures=0
on_exit() {
  local rc=$?
  if ((rc != 0 || failures)); then
    for log in twind.err prometheus.log mosquitto.log sim.out; do
      [[ -s $work/$log ]] || continue
      echo "--- last lines of $log:"
      tail -n 15 "$work/$log"
    done
  fi
  cleanup_work
}
trap on_exit EXIT

# --- broker and twind ---------------------------------------------------------------------------
start_broker "$work"
# The seed configuration, y's divergence also decided by a CUSUM (docs/configuration.md).
awk '{print} /^        stale_after: 1.5s/ {
  print "        detector: cusum"
  print "        cusum: {sigma: 0.01, k: 0.5, h: 20}"
}' "$repo/config/twind.yaml" >"$work/twind.yaml"
if ! grep -q 'detector: cusum' "$work/twind.yaml"; then
  echo "FAIL: config/twind.yaml has no 'stale_after: 1.5s' line for y"
  exit 1
fi
"$twind" check -c "$work/twind.yaml" >/dev/null
http_port=$(free_port)
"$twind" run -c "$work/twind.yaml" --broker "$BROKER_URI" --http "127.0.0.1:$http_port" \
  >"$work/twind.out" 2>"$work/twind.err" &
twind_pid=$!
pids+=("$twind_pid")
for _ in $(seq 400); do
  grep -q "connected to the broker" "$work/twind.out" "$work/twind.err" && break
  kill -0 "$twind_pid" 2>/dev/null || { echo "FAIL: twind exited at start"; exit 1; }
  sleep 0.05
done
grep -q "connected to the broker" "$work/twind.out" "$work/twind.err" ||
  { echo "FAIL: twind did not connect within 20 s"; exit 1; }
"$twin_sim" --broker "$BROKER_URI" --wear-at "$wear_at" --duration $((wear_at + 40)) \
  >"$work/sim.out" 2>&1 &
pids+=($!)

# --- prometheus -----------------------------------------------------------------------------------
# The repository's configuration with what a test must change, each change checked.
conf=$work/prometheus.yml
sed -e "s/^  scrape_interval: 5s$/  scrape_interval: 1s/" \
  -e "s/^  scrape_timeout: 4s$/  scrape_timeout: 1s/" \
  -e "s/^  evaluation_interval: 5s$/  evaluation_interval: 1s/" \
  -e "s#^  - rules/\*\.yml\$#  - $repo/monitoring/prometheus/rules/twind.rules.yml#" \
  -e "s/\"twind:9100\"/\"127.0.0.1:$http_port\"/" \
  "$repo/monitoring/prometheus/prometheus.yml" >"$conf"
for want in "scrape_interval: 1s" "scrape_timeout: 1s" "evaluation_interval: 1s" \
  "- $repo/monitoring/prometheus/rules/twind.rules.yml" "\"127.0.0.1:$http_port\""; do
  if ! grep -qF -- "$want" "$conf"; then
    echo "FAIL: monitoring/prometheus/prometheus.yml: could not set '$want'"
    exit 1
  fi
done
promtool check config "$conf" >/dev/null
# A port taken between free_port and prometheus' bind: another one, up to 3 times.
for attempt in 1 2 3; do
  prom_port=$(free_port)
  prom_url=http://127.0.0.1:$prom_port
  prometheus --config.file="$conf" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" >>"$work/prometheus.log" 2>&1 &
  prom_pid=$!
  pids+=("$prom_pid")
  if prom ready 20; then break; fi
  if kill -0 "$prom_pid" 2>/dev/null || ((attempt == 3)); then exit 1; fi
  wait "$prom_pid" 2>/dev/null || true
  forget_pid "$prom_pid"
  echo "prometheus exited at start on port $prom_port; trying another"
done
version=$(prometheus --version 2>&1 | head -1 | awk '{print $3}')
say "mosquitto :$BROKER_PORT, twind :$http_port, prometheus :$prom_port ($version)," \
  "ready $(since "$started") s after the start"
prom scraped 15 plant

# --- before and after the wear --------------------------------------------------------------------
deadline=$(($(date +%s) + wear_at + 15))
until grep -q 'wear injected' "$work/sim.out"; do
  (($(date +%s) < deadline)) || { echo "FAIL: twin-sim never wore the plant"; exit 1; }
  sleep 0.1
done
wear=$(sed -nE 's/.*wear injected.*unix time ([0-9.]+).*/\1/p' "$work/sim.out")
say "twin-sim wore the plant at $wear"
# As of half a second before the wear (Prometheus keeps what it saw; asked once it has passed).
before=$(awk -v w="$wear" 'BEGIN {printf "%.3f", w - 0.5}')
prom quiet_before "$before" plant || failures=$((failures + 1))
prom fires TwinInAlert plant "$wear" 30 || failures=$((failures + 1))

# --- the dashboard's queries ----------------------------------------------------------------------
prom panels "$repo/monitoring/grafana/dashboards/twind.json" || failures=$((failures + 1))

stop_checked twind "$twind_pid" "$work/twind.err" || failures=$((failures + 1))
say "total $(since "$started") s"
if ((failures)); then
  echo "prometheus_live: $failures check(s) failed"
  exit 1
fi
echo "prometheus_live: ok"
