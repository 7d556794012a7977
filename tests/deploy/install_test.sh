#!/usr/bin/env bash
# install_test.sh BUILD_DIR REPO: runs `cmake --install BUILD_DIR --prefix P` staged into
# temporary DESTDIRs (nothing touches this machine's /usr or /etc) and checks that every file is
# where cmake/Install.cmake promises, with the unit's paths following the install-time prefix.
set -uo pipefail
build=$1
repo=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
expect_exec() { [[ -f $1 && -x $1 ]] || fail "not an executable file: $1"; }
expect_same() { cmp -s "$1" "$2" || fail "$2 differs from $1"; }
expect_mode() { [[ $(stat -c %a "$1" 2>/dev/null) == "$2" ]] || fail "$1: mode $(stat -c %a "$1" 2>/dev/null), expected $2"; }
expect_line() { grep -qxF -- "$2" "$1" 2>/dev/null || fail "$1 has no line '$2'"; }

# stage NAME PREFIX [again]: installs into DESTDIR=$tmp/NAME, and sets $dest to it. "again":
# a reinstall over an earlier one, whose files the manifest rightly does not list.
stage() {
  dest=$tmp/$1
  if ! DESTDIR=$dest "${CMAKE:-cmake}" --install "$build" --prefix "$2" >"$tmp/$1.log" 2>&1; then
    cat "$tmp/$1.log"
    fail "cmake --install --prefix $2 failed"
  fi
  [[ ${3:-} == again ]] && return
  # Nothing lands outside DESTDIR and everything is recorded for uninstalling: the manifest
  # (target paths) and the files under DESTDIR are the same set.
  diff <(sed '$a\' "$build/install_manifest.txt" | sed '/^$/d' | sort) \
    <(cd "$dest" && find . -type f | sed 's/^\.//' | sort) ||
    fail "install manifest and files under DESTDIR differ (< manifest only, > files only)"
}

# check_layout DEST BINDIR SYSCONFDIR DOCDIR UNITDIR (absolute paths as seen on the target)
check_layout() {
  local d=$1 bin=$2 etc=$3 doc=$4 unitdir=$5
  expect_exec "$d$bin/twind"
  expect_exec "$d$bin/twin-sim"
  local unit=$d$unitdir/twind.service
  expect_line "$unit" "ExecStart=$bin/twind run -c $etc/twind/twind.yaml"
  expect_line "$unit" "ExecStartPre=$bin/twind check -c $etc/twind/twind.yaml"
  expect_line "$unit" "Documentation=file:$doc/README.md"
  expect_line "$unit" "Type=notify"
  expect_line "$unit" "WatchdogSec=10s"
  if grep -n '@[A-Z_]*@' "$unit"; then fail "$unit: placeholders left unconfigured"; fi
  expect_mode "$unit" 644
  expect_same "$repo/config/twind.yaml" "$d$etc/twind/twind.yaml"
  expect_mode "$d$etc/twind/twind.yaml" 644
  # The template unit of a cluster's replicas, and its configuration.
  local replica=$d$unitdir/twind@.service
  expect_line "$replica" "ExecStart=$bin/twind run -c $etc/twind/cluster.yaml --member %i --http \${TWIND_HTTP} \$TWIND_BROKER"
  expect_line "$replica" "ExecStartPre=$bin/twind check -c $etc/twind/cluster.yaml"
  expect_line "$replica" "EnvironmentFile=-$etc/twind/%i.env"
  if grep -n '@[A-Z_]*@' "$replica"; then fail "$replica: placeholders left unconfigured"; fi
  expect_mode "$replica" 644
  expect_same "$repo/config/cluster.yaml" "$d$etc/twind/cluster.yaml"
  expect_mode "$d$etc/twind/cluster.yaml" 644
  expect_same "$repo/README.md" "$d$doc/README.md"
  for f in "$repo"/docs/*.md; do expect_same "$f" "$d$doc/$(basename "$f")"; done
  expect_same "$repo/config/twind.yaml" "$d$doc/examples/twind.yaml"
  # The installed binary runs and is this build's.
  "$d$bin/twind" --version >/dev/null 2>&1 || fail "$d$bin/twind --version failed"
}

# /usr: the distribution layout, configuration in /etc.
stage usr /usr
usr=$dest
check_layout "$usr" /usr/bin /etc /usr/share/doc/twind /usr/lib/systemd/system

# /usr/local: everything under the prefix, configuration in /usr/local/etc.
stage local /usr/local
local_=$dest
check_layout "$local_" /usr/local/bin /usr/local/etc /usr/local/share/doc/twind \
  /usr/local/lib/systemd/system

# /opt/twind: GNUInstallDirs puts its configuration in /etc/opt/twind.
stage opt /opt/twind
opt=$dest
check_layout "$opt" /opt/twind/bin /etc/opt/twind /opt/twind/share/doc/twind \
  /opt/twind/lib/systemd/system

# An administrator's edited configuration survives a reinstall; the shipped one goes beside it.
echo "# edited by the administrator" >>"$usr/etc/twind/twind.yaml"
cp "$usr/etc/twind/twind.yaml" "$tmp/edited.yaml"
stage usr /usr again
expect_same "$tmp/edited.yaml" "$usr/etc/twind/twind.yaml"
expect_same "$repo/config/twind.yaml" "$usr/etc/twind/twind.yaml.new"
# The cluster's configuration was not edited: replaced in place, with no .new beside it.
expect_same "$repo/config/cluster.yaml" "$usr/etc/twind/cluster.yaml"
[[ ! -e $usr/etc/twind/cluster.yaml.new ]] || fail "an unedited cluster.yaml got a cluster.yaml.new"

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "ok: install layout for /usr, /usr/local and /opt/twind"
