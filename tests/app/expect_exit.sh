#!/usr/bin/env bash
# expect_exit.sh CODE REGEX -- COMMAND...: passes when COMMAND exits with CODE and its combined
# output matches the extended regular expression REGEX ('' matches anything), with no sanitizer
# report in it.
set -u
source "$(dirname "$0")/../../scripts/lib/sanitizer.sh"
want=$1 regex=$2
shift 3
out=$("$@" 2>&1)
got=$?
sanitizer_check "$1" - <<<"$out" || exit 1
if [[ $got -ne $want ]]; then
  printf 'exit code %s, expected %s\n%s\n' "$got" "$want" "$out"
  exit 1
fi
if [[ -n $regex ]] && ! grep -Eq -- "$regex" <<<"$out"; then
  printf 'output does not match /%s/:\n%s\n' "$regex" "$out"
  exit 1
fi
echo ok
