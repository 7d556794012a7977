#!/usr/bin/env bash
# docker_lint.sh CHECK REPO [TWIND TWIN_SIM]: checks docker/Dockerfile without a Docker engine
# (none runs on CI machines). Exit 0 pass, 1 fail, 77 skipped (a tool or data it needs is absent).
#
#   copy-sources      every COPY source exists in the repository and is not .dockerignore'd;
#                     the build stage runs scripts/setup.sh (or its --build subset) as the
#                     README does; Debian 12 bases
#   runtime-packages  every package the runtime stage installs exists in apt (apt-cache show)
#   runtime-libs      every shared library TWIND and TWIN_SIM load comes from a package the
#                     runtime stage installs, or from one of those packages' dependencies
#   commands          every twind subcommand and option the Dockerfile, docker-compose.yml and
#                     the systemd unit use appears in the built binaries' --help
#   compose-cli       `docker compose config` accepts docker-compose.yml (when the plugin exists)
set -uo pipefail
check=$1
repo=$2
twind=${3:-}
twin_sim=${4:-}
dockerfile=$repo/docker/Dockerfile
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
skip() {
  echo "SKIP: $*"
  exit 77
}

# Instructions with continuation lines joined and comments dropped, one per line.
instructions() {
  sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$dockerfile" |
    awk '{ if (sub(/\\$/, "")) { buf = buf $0 " " } else { print buf $0; buf = "" } }'
}

# The packages `apt-get install` names in the last stage.
runtime_packages() {
  instructions | awk '/^FROM /{stage++} {print stage "\t" $0}' |
    awk -F'\t' -v last="$(instructions | grep -c '^FROM ')" '$1 == last {print $2}' |
    grep '^RUN ' | grep -o 'apt-get install[^&;]*' |
    tr ' ' '\n' | sed -e '1,2d' | grep -v -e '^-' -e '^$' | sort -u
}

case $check in
copy-sources)
  [[ -f $dockerfile ]] || { echo "FAIL: no $dockerfile"; exit 1; }
  ignore=()
  if [[ -f $repo/.dockerignore ]]; then
    mapfile -t ignore < <(sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' -e 's#/$##' \
      "$repo/.dockerignore")
  fi
  ncopy=0
  while read -r line; do
    read -ra words <<<"$line"
    args=()
    for w in "${words[@]:1}"; do
      [[ $w == --from=* ]] && continue 2  # from another stage, not from the context
      [[ $w == --* ]] && continue
      args+=("$w")
    done
    ((${#args[@]} >= 2)) || { fail "COPY needs a source and a destination: $line"; continue; }
    for src in "${args[@]:0:${#args[@]}-1}"; do
      ncopy=$((ncopy + 1))
      [[ -e $repo/$src ]] || fail "COPY source '$src' does not exist in the repository"
      [[ $src == . ]] && continue
      for pattern in "${ignore[@]}"; do
        # shellcheck disable=SC2053  # the pattern is a glob on purpose
        if [[ ${src%/} == $pattern || ${src%/} == $pattern/* ]]; then
          fail "COPY source '$src' is excluded by .dockerignore pattern '$pattern'"
        fi
      done
    done
  done < <(instructions | grep '^COPY ')
  ((ncopy > 0)) || fail "no COPY from the build context"
  # The image is built the way the README sets a machine up: the same script, with --build (its
  # build packages alone), or as is.
  stage1=$(instructions | awk '/^FROM /{n++} n == 1')
  grep -qxE 'RUN scripts/setup.sh( --build)?' <<<"$stage1" ||
    fail "the build stage does not RUN scripts/setup.sh"
  if grep -qx 'RUN scripts/setup.sh --build' <<<"$stage1"; then
    grep -q -- '--build)' "$repo/scripts/setup.sh" || fail "scripts/setup.sh has no --build option"
  fi
  grep -q 'scripts/setup.sh' "$repo/README.md" || fail "README.md does not mention scripts/setup.sh"
  while read -r _ image _; do
    [[ $image == debian:bookworm || $image == debian:bookworm-slim ]] ||
      fail "base image $image is not Debian 12 (bookworm)"
  done < <(instructions | grep '^FROM ')
  ;;

runtime-packages)
  command -v apt-cache >/dev/null || skip "no apt-cache"
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null ||
    skip "apt has no package lists (run apt-get update)"
  mapfile -t pkgs < <(runtime_packages)
  ((${#pkgs[@]} > 0)) || fail "the runtime stage installs no packages"
  # One query for all (each apt-cache run loads the whole cache); it exits 0 even when some of
  # the names are unknown, so compare the packages it describes with the ones asked for.
  found=$(apt-cache show --no-all-versions "${pkgs[@]}" 2>/dev/null | sed -n 's/^Package: //p' |
    sort -u)
  for p in "${pkgs[@]}"; do
    if grep -qx "$p" <<<"$found"; then
      echo "ok: $p"
    else
      fail "runtime package '$p' is unknown to apt"
    fi
  done
  ;;

runtime-libs)
  command -v ldd >/dev/null || skip "no ldd"
  command -v dpkg >/dev/null || skip "no dpkg"
  [[ -x $twind && -x $twin_sim ]] || { echo "FAIL: binaries not built: $twind $twin_sim"; exit 1; }
  mapfile -t pkgs < <(runtime_packages)
  # What the runtime stage will hold: the listed packages and everything they depend on.
  closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${pkgs[@]}" 2>/dev/null |
    grep -v '^ ' | tr -d '<>' | sed 's/:.*//' | sort -u)
  [[ -n $closure ]] || skip "apt-cache depends gave nothing (no apt data)"
  nlibs=0
  while read -r lib path; do
    case $lib in lib?san.so* | libasan.so* | libubsan.so*) continue ;; esac  # sanitizer builds
    nlibs=$((nlibs + 1))
    owner=""
    for candidate in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
      owner=$(dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1) && [[ -n $owner ]] && break
    done
    if [[ -z $owner ]]; then
      fail "$lib ($path) belongs to no Debian package"
    elif grep -qx "$owner" <<<"$closure"; then
      echo "ok: $lib from $owner"
    else
      fail "$lib comes from $owner, which the runtime stage does not install"
    fi
  done < <(ldd "$twind" "$twin_sim" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u)
  ((nlibs > 0)) || fail "ldd listed no libraries"
  ;;

commands)
  [[ -x $twind && -x $twin_sim ]] || { echo "FAIL: binaries not built: $twind $twin_sim"; exit 1; }
  help=$("$twind" --help 2>&1)
  # Every twind invocation: Dockerfile JSON arrays (ENTRYPOINT ["twind"] + CMD / HEALTHCHECK),
  # compose commands (twind's service uses the image's ENTRYPOINT) and the unit's Exec lines.
  mapfile -t uses < <(
    instructions | grep -E '^(CMD|HEALTHCHECK)' | grep -o '\[.*\]' | tr -d '[],"' |
      sed -E 's/^twind //'
    awk '/^  twind:/{t=1; next} /^  [a-z-]+:/{t=0} t && /command:/{c=1} c{print} c && /\]/{c=0}' \
      "$repo/docker-compose.yml" | sed 's/.*command://' | tr -d '[],"\n' | sed 's/$/\n/'
    grep -E '^Exec(Start|StartPre)=' "$repo/systemd/twind.service.in" | sed -E 's/^[^=]*=[^ ]*twind //'
  )
  ((${#uses[@]} >= 4)) || fail "found only ${#uses[@]} twind invocations"
  for use in "${uses[@]}"; do
    read -ra words <<<"$use"
    [[ ${#words[@]} -gt 0 ]] || continue
    sub=${words[0]}
    if ! grep -qE "^  $sub( |$)" <<<"$help"; then
      fail "'twind $sub' is not a subcommand of the built twind"
      continue
    fi
    subhelp=$("$twind" "$sub" --help 2>&1)
    for w in "${words[@]:1}"; do
      [[ $w == -* ]] || continue
      grep -qE -- "(^|[ ,])$w([ ,=]|$)" <<<"$subhelp" || fail "'twind $sub' has no option $w"
    done
    echo "ok: twind ${use}"
  done
  sim_help=$("$twin_sim" --help 2>&1)
  for w in $(awk '/^  twin-sim:/{t=1; next} /^  [a-z-]+:/{t=0} t && /command:/' \
    "$repo/docker-compose.yml" | grep -oE -- '--[a-z-]+'); do
    grep -qE -- "(^|[ ,])$w([ ,=]|$)" <<<"$sim_help" || fail "twin-sim has no option $w"
  done
  grep -q 'entrypoint: \["twin-sim"\]' "$repo/docker-compose.yml" ||
    fail "docker-compose.yml: twin-sim's entrypoint is not twin-sim"
  ;;

compose-cli)
  command -v docker >/dev/null || skip "no docker CLI"
  docker compose version >/dev/null 2>&1 || skip "docker CLI without the compose plugin"
  (cd "$repo" && docker compose -f docker-compose.yml config --quiet) ||
    fail "docker compose config rejects docker-compose.yml"
  ;;

*)
  echo "usage: $0 copy-sources|runtime-packages|runtime-libs|commands|compose-cli REPO [TWIND TWIN_SIM]"
  exit 2
  ;;
esac

if ((failures > 0)); then exit 1; fi
echo "ok: $check"
