#!/usr/bin/env bash
# systemd_unit_test.sh verify|security BUILD_DIR: installs into a temporary prefix (so the unit's
# ExecStart names a real binary) and checks the unit exactly as installed:
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
unit=$tmp/root/lib/systemd/system/twind.service
[[ -f $unit ]] || { echo "FAIL: no $unit"; exit 1; }

case $mode in
verify)
  # verify exits 0 even for unknown keys and unparsable values, so any output is a failure.
  out=$(systemd-analyze verify --man=no --generators=no "$unit" 2>&1)
  rc=$?
  if [[ $rc -ne 0 || -n $out ]]; then
    printf 'FAIL: systemd-analyze verify (exit %s):\n%s\n' "$rc" "$out"
    exit 1
  fi
  echo "ok: systemd-analyze verify found nothing to report"
  ;;
security)
  out=$(systemd-analyze security --offline=true --threshold=30 "$unit" 2>&1)
  rc=$?
  level=$(grep -o 'Overall exposure level for twind.service: .*' <<<"$out")
  if [[ -z $level ]]; then
    printf 'FAIL: no exposure level in:\n%s\n' "$out"
    exit 1
  fi
  grep '✗' <<<"$out"
  echo "$level"
  if [[ $rc -ne 0 ]]; then
    echo "FAIL: exposure above 3.0"
    exit 1
  fi
  ;;
*)
  echo "usage: $0 verify|security BUILD_DIR"
  exit 2
  ;;
esac
