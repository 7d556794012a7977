#!/usr/bin/env bash
# systemd_unit_test.sh verify|security BUILD_DIR: installs into a temporary prefix (so the units'
# ExecStart names a real binary) and checks the units exactly as installed, twind.service and the
# template unit of a cluster's replicas, twind@.service (as the instance twind@replica-1):
#   verify    `systemd-analyze verify` reports nothing: no unknown keys, bad values or missing
#             executables (it runs without systemd as PID 1)
#   security  `systemd-analyze security --offline=true` rates its exposure 3.0 ("OK") or better
# Exit 0 pass, 1 fail, 77 skipped (no systemd-analyze: Debian's `systemd` package).
set -uo pipefail
mode=$1
build=$2
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "${CMAKE:-cmake}" --install "$build" --prefix "$tmp/root" >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log"
  echo "FAIL: cmake --install failed"
  exit 1
fi
units=$tmp/root/lib/systemd/system
for f in twind.service twind@.service; do
  [[ -f $units/$f ]] || { echo "FAIL: no $units/$f"; exit 1; }
done
# The template unit is checked as an instance (twind@replica-1: %i filled in), through a link
# beside it, as systemd loads an instance from its template.
ln -s twind@.service "$units/twind@replica-1.service"

failures=0
for name in twind.service twind@replica-1.service; do
  unit=$units/$name
  case $mode in
  verify)
    # verify exits 0 even for unknown keys and unparsable values, so any output is a failure.
    out=$(systemd-analyze verify --man=no --generators=no "$unit" 2>&1)
    rc=$?
    if [[ $rc -ne 0 || -n $out ]]; then
      printf 'FAIL: %s: systemd-analyze verify (exit %s):\n%s\n' "$name" "$rc" "$out"
      failures=$((failures + 1))
      continue
    fi
    echo "ok: $name: systemd-analyze verify found nothing to report"
    ;;
  security)
    out=$(systemd-analyze security --offline=true --threshold=30 "$unit" 2>&1)
    rc=$?
    level=$(grep -o "Overall exposure level for $name: .*" <<<"$out")
    if [[ -z $level ]]; then
      printf 'FAIL: %s: no exposure level in:\n%s\n' "$name" "$out"
      failures=$((failures + 1))
      continue
    fi
    grep '✗' <<<"$out"
    echo "$level"
    if [[ $rc -ne 0 ]]; then
      echo "FAIL: $name: exposure above 3.0"
      failures=$((failures + 1))
    fi
    ;;
  *)
    echo "usage: $0 verify|security BUILD_DIR"
    exit 2
    ;;
  esac
done
((failures == 0)) || exit 1
