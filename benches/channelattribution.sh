#!/usr/bin/env bash
# skvoz's `markov` next to ChannelAttribution's `markov_model` on the same
# journeys (issue 21). Builds ChannelAttribution from PyPI (it compiles C++)
# in a virtualenv, exports the paths of the `demo` project with
# `skvoz report paths`, asks skvoz for the channel report under `markov`,
# runs ChannelAttribution on the exported file and prints both results and
# both times side by side (benches/channelattribution_compare.py).
#
# Usage:
#   benches/channelattribution.sh --data DIR --from 2026-09-01 --to 2026-11-29 \
#       [--group-by channel] [--conversion sales] [--skvoz target/release/skvoz]
#
# DIR must hold a `demo` project (`skvoz demo --data DIR --visitors N`).
# Environment: VENV (default ./target/channelattribution-venv), NCORE
# (ChannelAttribution threads, default 1), SKVOZ_URL + SKVOZ_API_KEY to also
# time the report warm through a running `skvoz serve`.
set -euo pipefail

data="" from="" to="" group_by="channel" conversion="sales" skvoz=""
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="$2"; shift 2 ;;
    --from) from="$2"; shift 2 ;;
    --to) to="$2"; shift 2 ;;
    --group-by) group_by="$2"; shift 2 ;;
    --conversion) conversion="$2"; shift 2 ;;
    --skvoz) skvoz="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$data" ] || [ -z "$from" ] || [ -z "$to" ]; then
  echo "usage: $0 --data DIR --from YYYY-MM-DD --to YYYY-MM-DD [--group-by channel] [--conversion sales] [--skvoz BIN]" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "$skvoz" ]; then
  (cd "$root" && cargo build --release -p skvoz)
  skvoz="$root/target/release/skvoz"
  [ -x "$skvoz" ] || skvoz="${CARGO_TARGET_DIR:-$root/target}/release/skvoz"
fi
venv="${VENV:-$root/target/channelattribution-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  # The sdist compiles its C++ (Armadillo, Cython): a few minutes.
  # (its module imports matplotlib without declaring it)
  "$venv/bin/pip" install ChannelAttribution pandas matplotlib
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
common=(--project demo --data "$data" --from "$from" --to "$to" --group-by "$group_by")

# The journeys, ChannelAttribution's input.
start=$(date +%s.%N)
"$skvoz" report paths "${common[@]}" --conversion "$conversion" --format csv > "$out/paths.csv"
end=$(date +%s.%N)
paths_s=$(echo "$end - $start" | bc)

# skvoz's markov, a fresh process twice (the second reads the index
# snapshot the first may have written).
times=()
for run in 1 2; do
  start=$(date +%s.%N)
  "$skvoz" report channels "${common[@]}" --model markov --format json > "$out/skvoz.json"
  end=$(date +%s.%N)
  times+=("$(echo "$end - $start" | bc)")
done

warm=""
if [ -n "${SKVOZ_URL:-}" ] && [ -n "${SKVOZ_API_KEY:-}" ]; then
  url="$SKVOZ_URL/api/v1/reports/channels?from=$from&to=$to&group_by=$group_by&model=markov"
  curl -fsS -H "Authorization: Bearer $SKVOZ_API_KEY" "$url" > /dev/null
  for run in 1 2 3; do
    t=$(curl -fsS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $SKVOZ_API_KEY" "$url")
    warm="$warm $t"
  done
fi

"$venv/bin/python" "$root/benches/channelattribution_compare.py" \
  --paths "$out/paths.csv" --skvoz "$out/skvoz.json" --conversion "$conversion" \
  --ncore "${NCORE:-1}" --skvoz-times "${times[*]}" --paths-time "$paths_s" \
  --warm-times "$warm"
