#!/usr/bin/env bash
# password_warning.sh TWIND CONFIG_DIR: a password file readable by every user draws a warning at
# start, one readable by its owner only does not, and the password itself never reaches the log.
# twind runs for 2 s against a closed loopback port (it keeps retrying), then gets SIGTERM; it must
# exit by itself within 10 s of it (so that a sanitizer build's leak check runs) and print no
# sanitizer report.
set -u
source "$(dirname "$0")/../../scripts/lib/sanitizer.sh"
twind=$1 cfg=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
secret='s3cret-Pa55word'
printf '%s\n' "$secret" >"$dir/password"
sed "s|^  clean_session: true|  clean_session: true\n  username: twind\n  password_file: $dir/password|" \
  "$cfg/twind.yaml" >"$dir/twind.yaml"
fail() { printf '%s\n%s\n' "$1" "$2"; exit 1; }
# run: twind's output; timeout's 124 is twind ended by the SIGTERM, 137 a SIGKILL 10 s later.
run() {
  local out rc=0
  out=$(timeout -s TERM -k 10 2 "$twind" run -c "$dir/twind.yaml" --broker tcp://127.0.0.1:1 \
    --http off 2>&1) || rc=$?
  ((rc == 124)) || fail "twind ended with status $rc, not by the SIGTERM after 2 s:" "$out" >&2
  sanitizer_check twind - <<<"$out" >&2 || exit 1
  printf '%s\n' "$out"
}

chmod 644 "$dir/password"
out=$(run) || exit 1
grep -q "password file $dir/password is readable by every user" <<<"$out" ||
  fail "no warning for a world-readable password file:" "$out"
grep -q -- "$secret" <<<"$out" && fail "the password appears in the log:" "$out"

chmod 600 "$dir/password"
out=$(run) || exit 1
grep -q "readable by every user" <<<"$out" && fail "a warning for a private password file:" "$out"
grep -q -- "$secret" <<<"$out" && fail "the password appears in the log:" "$out"
echo ok
