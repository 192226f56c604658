#!/usr/bin/env bash
# The payment workload on Redis 7 (Debian's package), on loopback, in a temp
# dir: a Lua script checks and debits the balance and appends the entry under a
# unique payment id; appendonly yes with appendfsync always (durable, like
# Coffer) and everysec; unpipelined and pipelined (-P 16) clients.
#   bench/peers/redis.sh [--members N] [--requests N] [--clients C]
# Prints one TSV line per (fsync, pipeline):
#   system  form  clients  durability  payments_per_s  p50_ms  p99_ms
set -euo pipefail
members=100000
requests=200000
clients=16
while [ $# -gt 0 ]; do
  case $1 in
    --members) members=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    *) echo "redis.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
command -v redis-server >/dev/null || { echo "redis.sh: install Debian's redis-server (bench/peers/install.sh)" >&2; exit 2; }
work=$(mktemp -d /tmp/coffer-redis.XXXXXX)
port=63799
cleanup() { redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

# KEYS[1] = account hash. ARGV[1] = amount. The payment id is unique by
# construction (INCR), and the entry goes into a hash keyed by it.
script='local amt = tonumber(ARGV[1])
local bal = tonumber(redis.call("HGET", KEYS[1], "b") or "0")
if bal < amt then return 0 end
redis.call("HINCRBY", KEYS[1], "b", -amt)
local pid = redis.call("INCR", "payment:seq")
redis.call("HSET", "entry:" .. pid, "account", KEYS[1], "amount", amt)
return pid'

for fsync in always everysec; do
  redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$work/data" && mkdir -p "$work/data"
  redis-server --port $port --bind 127.0.0.1 --dir "$work/data" --appendonly yes \
    --appendfsync $fsync --save "" --daemonize yes --logfile "$work/redis.log" >/dev/null
  for _ in $(seq 50); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
  # Members: acct:0 .. acct:N-1 (redis-benchmark's __rand_int__ range), funded.
  seq 0 $((members - 1)) | awk '{printf "HSET acct:%012d b 1000000000\n", $1}' |
    redis-cli -p $port --pipe >/dev/null
  sha=$(redis-cli -p $port script load "$script")
  for pipeline in 1 16; do
    csv=$(redis-benchmark -p $port -c "$clients" -n "$requests" -r "$members" -P $pipeline --csv \
      EVALSHA "$sha" 1 "acct:__rand_int__" 50 2>/dev/null | tail -n 1)
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    rps=$(echo "$csv" | awk -F'"' '{print $4}')
    p50=$(echo "$csv" | awk -F'"' '{print $10}')
    p99=$(echo "$csv" | awk -F'"' '{print $14}')
    echo -e "redis\tlua-P$pipeline\t$clients\tappendfsync=$fsync\t${rps%.*}\t$p50\t$p99"
  done
done
