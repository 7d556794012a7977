#!/usr/bin/env bash
# self_contained.sh REPO: the repository explains itself. Fails (exit 1), listing file:line, when a
# tracked file of REPO (recordings, *.jsonl, excepted) cites material its readers do not have: the
# project's private reference notes (the contract, toolchain and style notes, by their file names
# or by the directory beside the repository that holds them) or a numbered issue of its private
# tracker ("issue" and a number; an upstream issue such as "yaml-cpp issue #1040" names its project
# and a '#', and passes). Say what a thing does instead; the external interface is described in
# docs/interfaces.md.
#
# First it checks itself: the same search over a scratch repository holding one planted citation
# of each kind must find every one, so a pattern that stopped matching fails here, not silently.
# Exit 77 (a skipped test) when REPO is not a git checkout: there is then nothing tracked to check.
set -euo pipefail
(($# == 1)) || { echo "usage: $0 REPO" >&2; exit 2; }
repo=$1

# Written so that this file does not match it.
pattern='CONTRACT[.]md|TOOLCHAIN[.]md|STYLE[.]md|[.][.]/shared/|\b[Ii]ssue [0-9]+'

# search DIR: prints every match in DIR's tracked files as path:line:text; exit 0 when there is one,
# 1 when there is none, 2 when the search itself failed.
search() {
  local rc=0
  git -C "$1" grep -n -I -E -e "$pattern" -- . ':!*.jsonl' || rc=$?
  ((rc <= 1)) || { echo "git grep failed in $1 (exit $rc)" >&2; return 2; }
  return "$rc"
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git -C "$scratch" init -q
planted=("see CONTRACT"".md" "TOOLCHAIN"".md says" "STYLE"".md" "in ..""/shared/notes" "issue"" 5"
         "(Issue"" 12, point 3)")
for i in "${!planted[@]}"; do printf 'text\n%s here\n' "${planted[i]}" >"$scratch/planted$i.txt"; done
printf '%s\n' "yaml-cpp issue #1040" "an issue, 2 of them" "see docs/interfaces.md" >"$scratch/fine.txt"
printf '%s\n' "{\"payload\": \"issue"" 7\"}" >"$scratch/data.jsonl"
git -C "$scratch" add -A
rc=0
found=$(search "$scratch") || rc=$?
((rc != 2)) || exit 1
for i in "${!planted[@]}"; do
  grep -q "^planted$i.txt:2:" <<<"$found" || { echo "FAIL: the check misses '${planted[i]}'"; exit 1; }
done
if grep -q -e '^fine.txt' -e '^data.jsonl' <<<"$found"; then
  echo "FAIL: the check flags what it must not:"
  echo "$found"
  exit 1
fi

if ! git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "$repo is not a git checkout: nothing tracked to check"
  exit 77
fi
rc=0
hits=$(search "$repo") || rc=$?
case $rc in
  1) echo "ok: no tracked file cites the private reference notes or tracker"; exit 0 ;;
  0)
    echo "FAIL: these lines cite what readers of the repository do not have; say what the thing"
    echo "does instead (the external interface is in docs/interfaces.md):"
    echo "$hits"
    exit 1
    ;;
  *) exit 1 ;;
esac
