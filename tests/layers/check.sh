#!/usr/bin/env bash
# check.sh REPO [LAYER=PUBLIC_LINKS/ALL_LINKS ...]: holds the source tree to the layer graph of
# REPO/docs/design.md ("Layers" table, column "may use").
#
# Fails, naming file and line, when
#   - a file of include/twind/L/ or src/L/ includes "twind/M/..." and M is not in L's row;
#   - a file includes another layer's internal/ header;
#   - a folder of include/twind/ or src/ is no layer of the table;
# and, for each LAYER=PUBLIC/ALL argument (comma-separated twind_* links of the library, as CMake
# sees them: PUBLIC, and PUBLIC plus PRIVATE), when
#   - the library links a layer beyond its row;
#   - a public header includes a layer that the library does not link PUBLIC (directly or
#     through a PUBLIC link of a PUBLIC link), so that its users could not compile it;
#   - a source includes a layer that the library does not link at all.
# check.sh --self-test REPO: plants one violation of each kind in a copy of the tree and passes
# only if every one is reported.
set -euo pipefail

self_test=0
if [[ ${1:-} == --self-test ]]; then
  self_test=1
  shift
fi
repo=$1
shift

if ((self_test)); then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/docs"
  cp "$repo/docs/design.md" "$tmp/docs/"
  cp -r "$repo/include" "$repo/src" "$tmp/"
  # A model header reaching up to the engine, a config source using the mqtt layer's internals,
  # and a folder that is no layer.
  printf '#include "twind/core/engine.hpp"\n' >>"$tmp/include/twind/model/model.hpp"
  printf '#include "twind/mqtt/internal/backoff.hpp"\n' >>"$tmp/src/config/loader.cpp"
  mkdir -p "$tmp/src/extra"
  # Links: core's config PRIVATE and codec missing, sim without codec, model beyond its row.
  out=$("$0" "$tmp" 'core=twind_base,twind_model/twind_base,twind_model,twind_config' \
    'sim=twind_model/twind_model,twind_json' 'model=twind_core/twind_core' 2>&1) &&
    {
      echo "self-test: the check passed a tree with planted violations:"
      echo "$out"
      exit 1
    }
  missing=0
  for want in 'include/twind/model/model.hpp:[0-9]+: model includes twind/core/' \
    'src/config/loader.cpp:[0-9]+: .*internal header of mqtt' \
    'src/extra: .*no layer' \
    'twind_core links twind_config PRIVATE, but include/twind/core/[a-z_]+.hpp includes it' \
    'twind_core does not link twind_codec, included by include/twind/core/' \
    'twind_sim does not link twind_codec, included by src/sim/' \
    'twind_model links twind_core, which docs/design.md does not let model use'; do
    if ! grep -Eq -- "$want" <<<"$out"; then
      echo "self-test: no finding matching /$want/"
      missing=1
    fi
  done
  if ((missing)); then
    echo "what the check said:"
    echo "$out"
    exit 1
  fi
  echo "self-test: every planted violation was reported"
  exit 0
fi

design=$repo/docs/design.md
[[ -f $design ]] || {
  echo "$design: missing"
  exit 1
}

# The table: rows "| `layer` | `a`, `b` | ..." after the "## Layers" heading, up to the next
# heading.
declare -A allowed=()
layers=()
while IFS= read -r row; do
  name=$(sed -E 's/^\| *`([a-z_]+)`.*/\1/' <<<"$row")
  uses=$(awk -F'|' '{print $3}' <<<"$row")
  layers+=("$name")
  allowed[$name]=" $( (grep -oE '`[a-z_]+`' <<<"$uses" || true) | tr -d '`' | tr '\n' ' ')"
done < <(awk '/^## Layers/{on=1; next} /^## /{on=0} on && /^\| *`[a-z_]+` *\|/' "$design")
if ((${#layers[@]} == 0)); then
  echo "$design: no layer table under \"## Layers\" (rows like | \`core\` | \`base\`, \`model\` | ...)"
  exit 1
fi

fail=0
finding() {
  echo "$1"
  fail=1
}
is_layer() { [[ -n ${allowed[$1]+x} ]]; }
may_use() { [[ ${allowed[$1]} == *" $2 "* ]]; }

for top in "$repo/include/twind" "$repo/src"; do
  for dir in "$top"/*/; do
    l=$(basename "$dir")
    dir=${dir%/}
    is_layer "$l" || finding "${dir#"$repo"/}: a folder that is no layer of docs/design.md's table"
  done
done

# Layers included by public headers and by sources, per layer (for the link check).
declare -A public_uses=() source_uses=() public_file=() source_file=()
for l in "${layers[@]}"; do
  for kind in public source; do
    if [[ $kind == public ]]; then base=$repo/include/twind/$l; else base=$repo/src/$l; fi
    [[ -d $base ]] || continue
    while IFS=: read -r file line text; do
      [[ $text =~ \"twind/([a-z_]+)/ ]] || continue
      m=${BASH_REMATCH[1]}
      rel=${file#"$repo"/}
      if [[ $text == *"/internal/"* && $m != "$l" ]]; then
        finding "$rel:$line: includes an internal header of $m (${text#\#include }); only $m itself may"
      fi
      [[ $m == "$l" ]] && continue
      if ! is_layer "$m" || ! may_use "$l" "$m"; then
        finding "$rel:$line: $l includes twind/$m/, which docs/design.md does not let $l use (may use:${allowed[$l]:- nothing})"
        continue
      fi
      # The first file that includes each layer names it in a finding.
      if [[ $kind == public ]]; then
        [[ -n ${public_file[$l.$m]+x} ]] && continue
        public_uses[$l]+=" $m"
        public_file[$l.$m]=$rel
      else
        [[ -n ${source_file[$l.$m]+x} ]] && continue
        source_uses[$l]+=" $m"
        source_file[$l.$m]=$rel
      fi
    done < <(grep -rnE '^#include "twind/[a-z_]+/' "$base" || true)
  done
done

# The links, as given by CMake: LAYER=PUBLIC/ALL. Targets that are no layer (third-party
# libraries, the warning and sanitizer flag targets) are not the table's business.
declare -A pub=() all=()
layer_links() {
  local x out=""
  for x in $(tr ',' ' ' <<<"$1"); do
    x=${x#twind_}
    if is_layer "$x"; then out+="$x "; fi
  done
  echo "$out"
}
for arg in "$@"; do
  l=${arg%%=*}
  links=${arg#*=}
  p=${links%%/*}
  a=${links#*/}
  pub[$l]=" $(layer_links "$p")"
  all[$l]=" $(layer_links "$a")"
done
# public_closure L: the layers whose headers a user of twind_L may include.
public_closure() {
  local seen=" $1 " queue=("$1") x y
  while ((${#queue[@]})); do
    x=${queue[0]}
    queue=("${queue[@]:1}")
    for y in ${pub[$x]:-}; do
      [[ $seen == *" $y "* ]] && continue
      seen+="$y "
      queue+=("$y")
    done
  done
  echo "$seen"
}
for l in "${!all[@]}"; do
  for m in ${all[$l]}; do
    may_use "$l" "$m" || finding "twind_$l links twind_$m, which docs/design.md does not let $l use"
  done
  reach=$(public_closure "$l")
  for m in ${public_uses[$l]:-}; do
    [[ $reach == *" $m "* ]] && continue
    if [[ ${all[$l]} == *" $m "* ]]; then
      finding "twind_$l links twind_$m PRIVATE, but ${public_file[$l.$m]} includes it: link it PUBLIC"
    else
      finding "twind_$l does not link twind_$m, included by ${public_file[$l.$m]}: link it PUBLIC"
    fi
  done
  reach_all=" "
  for x in $l ${all[$l]}; do reach_all+="$(public_closure "$x") "; done
  for m in ${source_uses[$l]:-}; do
    [[ $reach_all == *" $m "* ]] ||
      finding "twind_$l does not link twind_$m, included by ${source_file[$l.$m]}"
  done
done

if ((fail)); then
  echo "the layer graph is in docs/design.md (\"Layers\"); fix the include or the link, or the table"
  exit 1
fi
echo "layers: ${#layers[@]} layers, every include and link within docs/design.md's table"
