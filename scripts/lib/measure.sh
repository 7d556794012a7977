# Shared by the bench and test scripts: what a running process costs (/proc) and what twind and the
# fleet probe report (/metrics, the probe's JSON lines). Source it; it starts nothing.

# CPU time (user + system) of PID in clock ticks; fields after "pid (comm) ".
cpu_ticks() {
  local stat
  stat=$(<"/proc/$1/stat") || return 1
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo $((${12} + ${13}))
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
now() { date +%s.%N; }
# since T0: seconds since T0 (a now() reading), two decimals.
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }
# wait_for SECONDS CMD...: runs CMD every WAIT_EVERY s (default 0.1) until it succeeds; 1 after
# SECONDS.
wait_for() {
  local deadline
  deadline=$(awk -v t="$(now)" -v s="$1" 'BEGIN {printf "%.3f", t + s}')
  shift
  until "$@"; do
    awk -v t="$(now)" -v d="$deadline" 'BEGIN {exit !(t > d)}' && return 1
    sleep "${WAIT_EVERY:-0.1}"
  done
}
alive() { kill -0 "$1" 2>/dev/null; }
# metric NAME FILE: the sum of NAME's samples (all label sets) in a /metrics dump, or "?".
metric() {
  awk -v n="$1" '$1 == n || index($1, n "{") == 1 {s += $NF; f = 1}
                 END {if (f) printf "%.0f", s; else printf "?"}' "$2"
}
# jnum KEY FILE: a top-level number of the probe's JSON line, or "?".
jnum() {
  local v
  v=$(grep -o "\"$1\":[-0-9.]*" "$2" | head -1 | cut -d: -f2)
  echo "${v:-?}"
}
# jlat KEY FILE: "p50 / p99 / max" of one of the probe's latency objects; with fewer than 100
# samples (no p99 from the probe) "p50 / - / max (n=N)", the last figure being a maximum.
jlat() {
  local obj
  obj=$(grep -o "\"$1\":{[^}]*}" "$2" | head -1)
  awk -v o="$obj" 'BEGIN {
    n = split("p50 p99 max", k, " ")
    for (i = 1; i <= n; i++) {
      v = "?"
      if (match(o, "\"" k[i] "\":[-0-9.]+")) { v = substr(o, RSTART + length(k[i]) + 3, RLENGTH - length(k[i]) - 3); v = sprintf("%.1f", v) }
      else if (k[i] == "p99" && match(o, "\"p99\":null")) v = "-"
      out = out (i > 1 ? " / " : "") v
    }
    if (match(o, "\"n\":[0-9]+")) { count = substr(o, RSTART + 4, RLENGTH - 4) + 0; if (count < 100) out = out " (n=" count ")" }
    print out
  }'
}
# jsub OBJ KEY FILE: the number KEY inside the probe's object OBJ (e.g. state_latency_ms p99), or
# "?" (also when it is null: a window without samples, or a p99 of fewer than 100).
jsub() {
  local v
  v=$(grep -o "\"$1\":{[^}]*}" "$3" | head -1 | grep -o "\"$2\":[-0-9.]*" | cut -d: -f2 || true)
  echo "${v:-?}"
}

# follow_probe PROBE_PID JSONL [EVERY]: until the fleet probe PROBE_PID exits, every 0.5 s: runs
# EVERY (a command, if given), calls the caller's `row LINE` for each window line of JSONL not
# taken yet (counted in `rows`), and adds to `died` the name of each of `watched` ("PID:name"
# words) that has died. Then reaps the probe (a failure joins `died`) and takes the last lines.
follow_probe() {
  local probe=$1 jsonl=$2 every=${3:-} p rc=0
  while alive "$probe"; do
    sleep 0.5
    [[ -z $every ]] || $every
    take_probe_rows "$jsonl"
    for p in "${watched[@]}"; do
      alive "${p%%:*}" || { [[ $died == *"${p#*:}"* ]] || died+=" ${p#*:}"; }
    done
  done
  wait "$probe" || rc=$?
  forget_pid "$probe"
  take_probe_rows "$jsonl"
  [[ $rc -eq 0 ]] || died+=" probe(rc=$rc)"
}
take_probe_rows() {
  local line n=0
  while IFS= read -r line; do
    n=$((n + 1))
    if ((n > rows)); then row "$line"; fi
  done <"$1"
}

# window_start PID: starts measuring PID's CPU use by windows (window_end).
# window_end PID: sets WINDOW_CPU to PID's CPU use since the last window_start or window_end, in %
# of one core, and WINDOW_AT to now; the next window starts there.
window_start() {
  window_ticks=$(cpu_ticks "$1")
  window_at=$(now)
}
window_end() {
  local t c
  t=$(now)
  c=$(cpu_ticks "$1" || echo "$window_ticks")
  WINDOW_CPU=$(awk -v a="$window_ticks" -v b="$c" -v hz="$(getconf CLK_TCK)" -v x="$window_at" \
    -v y="$t" 'BEGIN {printf "%.1f", (b - a) / hz / (y - x) * 100}')
  WINDOW_AT=$t
  window_ticks=$c window_at=$t
}
