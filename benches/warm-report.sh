#!/usr/bin/env bash
# Usage: warm-report.sh BIN DATA KEY PORT — serve DATA, one cold request, then 7 warm ones; prints the
# median warm time of GET /api/v1/reports/channels (90 days; GROUP_BY and MODEL from the environment,
# default channel,source,campaign and last_non_direct).
set -euo pipefail
BIN=$1; DATA=$2; KEY=$3; PORT=$4
"$BIN" serve --data "$DATA" --listen 127.0.0.1:$PORT > /tmp/warm-$PORT.log 2>&1 &
SP=$!
for _ in $(seq 600); do curl -fs http://127.0.0.1:$PORT/livez >/dev/null 2>&1 && break; sleep 0.1; done
TO=$(date -u -d yesterday +%F); FROM=$(date -u -d '90 days ago' +%F)
U="http://127.0.0.1:$PORT/api/v1/reports/channels?from=$FROM&to=$TO&group_by=${GROUP_BY:-channel,source,campaign}&model=${MODEL:-last_non_direct}"
cold=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $KEY" "$U")
ts=()
for _ in 1 2 3 4 5 6 7; do ts+=($(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $KEY" "$U")); done
kill $SP; wait $SP 2>/dev/null || true
med=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n 4p)
echo "$(basename $BIN) ${MODEL:-last_non_direct} ${GROUP_BY:-channel,source,campaign} cold=${cold}s warm_median=${med}s warm=${ts[*]}"
