#!/usr/bin/env bash
# The payment workload on Coffer: a fresh cofferd on loopback (journal with
# group commit and real fdatasync), driven by coffer-bench with 100 % payments
# (domain payment_create, captured at once: the member's wallet is debited only
# when it has the funds, the payment recorded under its unique id), unbatched
# and batched.
#   bench/peers/coffer.sh [--members N] [--seconds S] [--build DIR]
# Prints TSV lines: system form clients durability payments_per_s p50_ms p99_ms
# (latencies are per call: one call carries `batch` payments).
set -euo pipefail
cd "$(dirname "$0")/../.."
members=100000
seconds=20
build=build
while [ $# -gt 0 ]; do
  case $1 in
    --members) members=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "coffer.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
dir=$(mktemp -d /tmp/coffer-peer.XXXXXX)
pid=
stop() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
cleanup() { stop; rm -rf "$dir"; }
trap cleanup EXIT
port=7790
# A fresh server per form: payments are domain records kept in RAM (about
# 270 B each), so each form gets room for 8 M of them (about 2.5 GiB).
for form in "1 16 4" "64 16 8" "8192 4 2"; do
  read -r batch clients inflight <<<"$form"
  rm -rf "$dir/data"
  "$build/cofferd" --data "$dir/data" --listen "127.0.0.1:$port" --payments-max 8388608 \
    --members-max 1048576 --accounts-max 4194304 2>"$dir/log" &
  pid=$!
  for _ in $(seq 300); do grep -q ready "$dir/log" && break; sleep 0.1; done
  "$build/coffer-bench" --server "127.0.0.1:$port" --token-file "$dir/data/token" \
    --members "$members" --connections "$clients" --batch "$batch" --in-flight "$inflight" \
    --duration "$seconds" --mix payments=100 --no-progress --json "$dir/r.json" >/dev/null 2>&1
  stop
  python3 - "$dir/r.json" "$batch" "$clients" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["money_check"], "money check failed"
print(f"coffer\tbatch {sys.argv[2]}\t{sys.argv[3]}\tjournal fdatasync (group commit)\t"
      f"{int(r['ok_per_s']['payments'])}\t{r['latency_ms']['p50']:.3f}\t{r['latency_ms']['p99']:.3f}")
PY
done
