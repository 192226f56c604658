#!/usr/bin/env bash
# Smoke run of coffer-bench: on a fresh cofferd, a short domain mix (payments,
# recharges, refunds, balance reads, voucher redemptions) over the binary
# protocol, then a few hundred requests of the HTTP mix through a fresh
# coffer-gateway. Each must finish with no errors and pass the money check
# (binary: members, merchant and the zero-sum change of the system accounts).
#   coffer_bench_smoke.sh <cofferd> <coffer-bench> <coffer-gateway>
set -euo pipefail
cofferd=$1
bench=$2
gateway=$3
dir=$(mktemp -d /tmp/coffer-bench-smoke.XXXXXX)
pid=
gpid=
cleanup() {
  [ -n "$gpid" ] && kill -9 "$gpid" 2>/dev/null
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_ready() {  # log file
  for _ in $(seq 200); do grep -q ready "$1" && return 0; sleep 0.1; done
  cat "$1"
  return 1
}
check() {  # result file, output files...
  local json=$1
  shift
  grep -q '"money_check":true' "$json" && grep -q '"errors":{}' "$json" &&
    grep -q '"uncertain":0' "$json" || { cat "$@" "$json"; exit 1; }
}

port=$(free_port)
"$cofferd" --data "$dir/data" --listen "127.0.0.1:$port" 2>"$dir/cofferd.log" &
pid=$!
wait_ready "$dir/cofferd.log"

"$bench" --server "127.0.0.1:$port" --token-file "$dir/data/token" --members 2000 \
  --connections 2 --batch 256 --count 100000 --zipf 1 --no-progress \
  --mix payments=60,recharges=10,refunds=10,reads=10,vouchers=10 --json "$dir/binary.json" \
  >"$dir/binary.txt" 2>"$dir/binary.err" || { cat "$dir/binary.txt" "$dir/binary.err"; exit 1; }
cat "$dir/binary.txt"
check "$dir/binary.json" "$dir/binary.txt" "$dir/binary.err"
grep -q '"zero_sum_checked":true' "$dir/binary.json"
# Every kind of the mix was acknowledged at least once.
for kind in payments recharges refunds reads vouchers; do
  grep -Eq "\"ok\":\\{[^}]*\"$kind\":[1-9]" "$dir/binary.json" ||
    { echo "no $kind acknowledged"; cat "$dir/binary.json"; exit 1; }
done

hport=$(free_port)
"$gateway" --ledger "127.0.0.1:$port" --token-file "$dir/data/token" \
  --listen "127.0.0.1:$hport" --admin-key-file "$dir/data/admin.key" 2>"$dir/gateway.log" &
gpid=$!
wait_ready "$dir/gateway.log"
"$bench" --http "127.0.0.1:$hport" --api-key-file "$dir/data/admin.key" --members 100 \
  --connections 4 --count 400 --no-progress --json "$dir/http.json" \
  >"$dir/http.txt" 2>"$dir/http.err" || { cat "$dir/http.txt" "$dir/http.err"; exit 1; }
cat "$dir/http.txt"
check "$dir/http.json" "$dir/http.txt" "$dir/http.err"
for kind in payments recharges refunds reads; do
  grep -Eq "\"ok\":\\{[^}]*\"$kind\":[1-9]" "$dir/http.json" ||
    { echo "no $kind acknowledged over HTTP"; cat "$dir/http.json"; exit 1; }
done

kill -TERM "$gpid"
wait "$gpid"
gpid=
kill -TERM "$pid"
wait "$pid"
pid=
