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
# jlat KEY FILE: "p50 / p99 / max" of one of the probe's latency objects.
jlat() {
  local obj
  obj=$(grep -o "\"$1\":{[^}]*}" "$2" | head -1)
  awk -v o="$obj" 'BEGIN {
    n = split("p50 p99 max", k, " ")
    for (i = 1; i <= n; i++) {
      v = "?"
      if (match(o, "\"" k[i] "\":[-0-9.]+")) { v = substr(o, RSTART + length(k[i]) + 3, RLENGTH - length(k[i]) - 3); v = sprintf("%.1f", v) }
      out = out (i > 1 ? " / " : "") v
    }
    print out
  }'
}
# jsub OBJ KEY FILE: the number KEY inside the probe's object OBJ (e.g. state_latency_ms p99), or
# "?" (also when it is null: a window without samples).
jsub() {
  local v
  v=$(grep -o "\"$1\":{[^}]*}" "$3" | head -1 | grep -o "\"$2\":[-0-9.]*" | cut -d: -f2 || true)
  echo "${v:-?}"
}
