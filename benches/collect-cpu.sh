#!/usr/bin/env bash
# Usage: collect-cpu.sh BIN LOADGEN PORT — one run: fresh data folder, serve, fixed-rate /collect load,
# prints "BIN hits cpu_us_per_hit" (server utime+stime from /proc/PID/stat over the whole run ÷ acknowledged hits).
set -euo pipefail
BIN=$1; LG=$2; PORT=$3
D=$(mktemp -d /tmp/cpu-XXXX)
PK=$("$BIN" project create bench --data "$D" | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])')
"$BIN" serve --data "$D" --listen 127.0.0.1:$PORT > "$D/serve.log" 2>&1 &
SP=$!
for _ in $(seq 100); do curl -fs http://127.0.0.1:$PORT/livez >/dev/null 2>&1 && break; sleep 0.1; done
TCK=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' /proc/$SP/stat; }
C0=$(cpu)
OUT=$(taskset -c 1 "$LG" --url http://127.0.0.1:$PORT --key "$PK" --rps 4000 --duration 15s --connections 64 --warmup 0s --threads 1 --quiet --json)
C1=$(cpu)
kill $SP; wait $SP 2>/dev/null || true
OK=$(echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("ok", d.get("requests_ok", d.get("succeeded", 0))))')
echo "$(basename $BIN) ok=$OK cpu_us_per_hit=$(python3 -c "print(round(($C1-$C0)/$TCK*1e6/max($OK,1),1))") raw=$(echo $OUT | head -c 300)"
rm -rf "$D"
