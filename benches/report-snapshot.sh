#!/usr/bin/env bash
# Usage: report-snapshot.sh BIN DATA_DIR OUT_DIR — every report shape as JSON, for byte comparison.
set -euo pipefail
BIN=$1; DATA=$2; OUT=$3
mkdir -p "$OUT"
P=demo
TO=$(date -u -d yesterday +%F); FROM=$(date -u -d '90 days ago' +%F)
MODELS=first_click,last_click,last_non_direct,last_paid,linear,time_decay,position_based,markov
i=0
run() { i=$((i+1)); "$BIN" report "$@" --project $P --data "$DATA" --format json > "$OUT/$i.json"; echo "$i: $*" >> "$OUT/index.txt"; }
: > "$OUT/index.txt"
for gb in channel channel,source channel,source,campaign channel,source,medium,campaign,ad,keyword; do
  for dm in conversion session; do
    run channels --from $FROM --to $TO --model $MODELS --group-by $gb --date-mode $dm
  done
done
run channels --from $FROM --to $TO --group-by channel --compare-from $(date -u -d '180 days ago' +%F) --compare-to $(date -u -d '91 days ago' +%F)
for m in visits leads deals revenue; do for g in day week month; do run dynamics --from $FROM --to $TO --metric $m --granularity $g; done; done
run funnel --from $FROM --to $TO
