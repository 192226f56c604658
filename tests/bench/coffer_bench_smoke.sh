#!/usr/bin/env bash
# Smoke run of coffer-bench against a live cofferd: a short mixed workload on a
# fresh data dir must finish with no errors and pass the money check.
#   coffer_bench_smoke.sh <cofferd> <coffer-bench>
set -euo pipefail
cofferd=$1
bench=$2
dir=$(mktemp -d /tmp/coffer-bench-smoke.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$cofferd" --data "$dir/data" --listen "127.0.0.1:$port" 2>"$dir/cofferd.log" &
pid=$!
for _ in $(seq 100); do grep -q ready "$dir/cofferd.log" && break; sleep 0.1; done
grep -q ready "$dir/cofferd.log" || { cat "$dir/cofferd.log"; exit 1; }
"$bench" --server "127.0.0.1:$port" --token-file "$dir/data/token" --members 2000 \
  --connections 2 --batch 256 --count 200000 --zipf 1 --json "$dir/result.json" \
  >"$dir/out.txt" 2>"$dir/err.txt" || { cat "$dir/out.txt" "$dir/err.txt"; exit 1; }
cat "$dir/out.txt"
grep -q '"money_check":true' "$dir/result.json"
grep -q '"errors":{}' "$dir/result.json"
kill -TERM "$pid"
wait "$pid"
pid=
