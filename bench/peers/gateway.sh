#!/usr/bin/env bash
# Gateway (HTTP) throughput: starts a fresh cofferd and coffer-gateway on
# loopback (temp data dir; journal with real fdatasync), registers and funds
# the members through HTTP, then measures, --runs times each, interleaved:
#   - coffer-bench --http: payments (POST /v1/payments, captured), balance reads
#     (GET /v1/members/{id}/balance) and the default mix, keep-alive connections;
#   - the peer in the same run: coffer-bench over the binary protocol, one
#     payment per call with as many calls outstanding as HTTP has connections
#     (and batched, for reference);
#   - wrk with bench/peers/wrk_payments.lua and wrk_balance.lua, if wrk is installed;
#   - the ceiling: nginx answering a constant 200 to wrk, with the same connections,
#     if nginx is installed (Debian package nginx-light): what any HTTP server
#     doing no work at all reaches on this machine with this load generator.
# Every coffer-bench run ends with its money check. Writes the medians into
# bench/RESULTS.md between the "gateway" markers (unless --no-write).
#   bench/peers/gateway.sh [--members N] [--seconds S] [--runs R] [--connections C]
#                          [--gateway-threads T] [--build DIR] [--no-write]
set -euo pipefail
cd "$(dirname "$0")/../.."
members=10000
seconds=10
runs=3
conns=256
gthreads=1
build=build
write=1
while [ $# -gt 0 ]; do
  case $1 in
    --members) members=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --gateway-threads) gthreads=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --no-write) write=0; shift ;;
    *) echo "gateway.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for b in cofferd coffer-gateway coffer-bench; do
  [ -x "$build/$b" ] || { echo "gateway.sh: $build/$b is not built" >&2; exit 2; }
done
dir=$(mktemp -d /tmp/coffer-gateway-bench.XXXXXX)
pid=
gpid=
cleanup() {
  [ -n "$gpid" ] && kill -TERM "$gpid" 2>/dev/null && wait "$gpid" 2>/dev/null
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_ready() {
  for _ in $(seq 300); do grep -q ready "$1" && return 0; sleep 0.1; done
  cat "$1" >&2
  exit 1
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# Fresh servers for every round, so that each round starts from the same
# ledger (payments are kept in RAM and in LMDB; millions of them from earlier
# rounds would weigh on later ones). Capacities: 16 M payments (about 6 GiB): a round makes ~9 M at these rates.
start_servers() {
  rm -rf "$dir/data"
  port=$(free_port)
  : >"$dir/cofferd.log"
  "$build/cofferd" --data "$dir/data" --listen "127.0.0.1:$port" --payments-max 16777216 \
    --records-max 4194304 --members-max 1048576 --accounts-max 4194304 \
    --idempotency-max 4194304 2>"$dir/cofferd.log" &
  pid=$!
  wait_ready "$dir/cofferd.log"
  hport=$(free_port)
  : >"$dir/gateway.log"
  "$build/coffer-gateway" --ledger "127.0.0.1:$port" --token-file "$dir/data/token" \
    --listen "127.0.0.1:$hport" --admin-key-file "$dir/data/admin.key" --threads "$gthreads" \
    2>"$dir/gateway.log" &
  gpid=$!
  wait_ready "$dir/gateway.log"
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$hport/healthz" >/dev/null && break
    sleep 0.1
  done
  key=$(head -n1 "$dir/data/admin.key")
  http=(--http "127.0.0.1:$hport" --api-key-file "$dir/data/admin.key" --members "$members"
        --no-progress)
  binary=(--server "127.0.0.1:$port" --token-file "$dir/data/token" --members "$members"
          --no-progress --no-setup)
  echo "gateway.sh: set-up: $members members registered and funded through HTTP" >&2
  "$build/coffer-bench" "${http[@]}" --connections 64 --count 2000 --mix payments=100 \
    --json "$dir/setup.json" >/dev/null
}
stop_servers() {
  kill -TERM "$gpid" && wait "$gpid" || true
  gpid=
  kill -TERM "$pid" && wait "$pid" || true
  pid=
}

rows=$dir/rows.tsv
# cb NAME KIND ARGS...: one coffer-bench run; KIND = the op whose rate counts
# ("all" = every operation). Appends: name rate p50 p99 money_check errors.
cb() {
  local name=$1 kind=$2
  shift 2
  "$build/coffer-bench" "$@" --duration "$seconds" --json "$dir/r.json" --cpu-pids "$pid" "$gpid" \
    >"$dir/r.txt" 2>&1 || { echo "gateway.sh: $name failed:" >&2; cat "$dir/r.txt" >&2; }
  python3 - "$dir/r.json" "$name" "$kind" >>"$rows" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
kind = sys.argv[3]
rate = r["operations_per_s"] if kind == "all" else r["ok_per_s"][kind]
lat = r["latency_ms"]
ops = max(r["operations"], 1)
us = [c * 1e6 / ops for c in r["pid_cpu_s"] + [r["cpu_s"]]]
print(f"{sys.argv[2]}\t{rate:.0f}\t{lat['p50']:.3f}\t{lat['p99']:.3f}\t{r['money_check']}\t"
      f"{sum(r['errors'].values())}\t{us[0]:.1f}\t{us[1]:.1f}\t{us[2]:.1f}")
PY
  tail -n1 "$rows" >&2
}
# CPU seconds (user + system) of a process.
cpu_s() {
  awk -v tck="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); print ($12 + $13) / tck}' "/proc/$1/stat"
}
# wrkrun NAME SCRIPT: one wrk run; appends like cb (money check: none).
wrkrun() {
  local name=$1 script=$2
  local c0 g0
  c0=$(cpu_s "$pid")
  g0=$(cpu_s "$gpid")
  API_KEY=$key MEMBERS=$members MERCHANT=coffer-bench PREFIX="w$RANDOM$RANDOM" \
    wrk -t1 -c"$conns" -d"${seconds}s" -s "$script" "http://127.0.0.1:$hport" >"$dir/w.txt" 2>&1
  python3 - "$dir/w.txt" "$name" "$c0" "$(cpu_s "$pid")" "$g0" "$(cpu_s "$gpid")" >>"$rows" <<'PY'
import json, sys
line = [l for l in open(sys.argv[1]) if l.startswith("{")][-1]
r = json.loads(line)
ops = max(r["requests"], 1)
c = (float(sys.argv[4]) - float(sys.argv[3])) * 1e6 / ops
g = (float(sys.argv[6]) - float(sys.argv[5])) * 1e6 / ops
print(f"{sys.argv[2]}\t{r['requests_per_s']:.0f}\t{r['p50_ms']:.3f}\t{r['p99_ms']:.3f}\tn/a\t"
      f"{r['non_2xx'] + r['socket_errors']}\t{c:.1f}\t{g:.1f}\tn/a")
PY
  tail -n1 "$rows" >&2
}
have_wrk=0
command -v wrk >/dev/null && have_wrk=1
nginx_bin=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)
# nginxrun NAME: nginx (one worker, no logs) answering a constant 200; wrk
# against it; appends like wrkrun (cofferd and gateway columns: nginx's CPU, n/a).
nginxrun() {
  local name=$1 nport npid n0
  nport=$(free_port)
  mkdir -p "$dir/nginx"
  cat >"$dir/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
master_process off;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$nport;
    location / { default_type application/json; return 200 '{"ok":true}'; }
  }
}
NGX
  "$nginx_bin" -c "$dir/nginx/nginx.conf" -p "$dir/nginx" &
  npid=$!
  sleep 0.5
  n0=$(cpu_s "$npid")
  wrk -t1 -c"$conns" -d"${seconds}s" -s bench/peers/wrk_summary.lua "http://127.0.0.1:$nport/" \
    >"$dir/w.txt" 2>&1
  python3 - "$dir/w.txt" "$name" "$n0" "$(cpu_s "$npid")" >>"$rows" <<'PY'
import json, sys
line = [l for l in open(sys.argv[1]) if l.startswith("{")][-1]
r = json.loads(line)
ops = max(r["requests"], 1)
n = (float(sys.argv[4]) - float(sys.argv[3])) * 1e6 / ops
print(f"{sys.argv[2]}\t{r['requests_per_s']:.0f}\t{r['p50_ms']:.3f}\t{r['p99_ms']:.3f}\tn/a\t"
      f"{r['non_2xx'] + r['socket_errors']}\tn/a\t{n:.1f}\tn/a")
PY
  kill -TERM "$npid" 2>/dev/null && wait "$npid" 2>/dev/null || true
  tail -n1 "$rows" >&2
}
inflight=$(( (conns + 3) / 4 ))
for run in $(seq "$runs"); do
  echo "gateway.sh: round $run of $runs" >&2
  start_servers
  cb "http payments" payments "${http[@]}" --no-setup --connections "$conns" --mix payments=100
  cb "http balance reads" reads "${http[@]}" --no-setup --connections "$conns" --mix reads=100
  cb "http mix 70/10/5/15" all "${http[@]}" --no-setup --connections "$conns"
  cb "binary payments, 1 per call" payments "${binary[@]}" --connections 4 --batch 1 \
    --in-flight "$inflight" --mix payments=100
  cb "binary payments, 64 per call" payments "${binary[@]}" --connections 4 --batch 64 \
    --in-flight 8 --mix payments=100
  if [ "$have_wrk" = 1 ]; then
    wrkrun "wrk payments" bench/peers/wrk_payments.lua
    wrkrun "wrk balance reads" bench/peers/wrk_balance.lua
  fi
  stop_servers
  if [ "$have_wrk" = 1 ] && [ -n "$nginx_bin" ]; then nginxrun "nginx constant 200 (ceiling)"; fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

table=$(python3 - "$rows" "$conns" "$inflight" <<'PY'
import statistics, sys
rows = {}
order = []
for line in open(sys.argv[1]):
    name, rate, p50, p99, money, errors, cd, gw, lg = line.rstrip("\n").split("\t")
    if name not in rows:
        rows[name] = []
        order.append(name)
    rows[name].append((float(rate), float(p50), float(p99), money, int(errors), cd, gw, lg))
conns, inflight = sys.argv[2], sys.argv[3]
clients = {
    "http payments": f"coffer-bench --http, {conns} connections",
    "http balance reads": f"coffer-bench --http, {conns} connections",
    "http mix 70/10/5/15": f"coffer-bench --http, {conns} connections",
    "binary payments, 1 per call": f"coffer-bench, 4 connections × {inflight} calls in flight",
    "binary payments, 64 per call": "coffer-bench, 4 connections × 8 calls in flight",
    "wrk payments": f"wrk -t1 -c{conns}",
    "wrk balance reads": f"wrk -t1 -c{conns}",
    "nginx constant 200 (ceiling)": f"wrk -t1 -c{conns}",
}
med = {}
print("| workload | load generator | per s (median) | all runs | p50 ms | p99 ms | money check | errors "
      "| CPU µs/op cofferd | gateway | load gen |")
print("|---|---|---:|---|---:|---:|---|---:|---:|---:|---:|")
def mcpu(rs, k):
    v = [float(r[k]) for r in rs if r[k] != "n/a"]
    return f"{statistics.median(v):.0f}" if v else "n/a"
for name in order:
    rs = rows[name]
    m = statistics.median(r[0] for r in rs)
    med[name] = m
    money = "n/a" if rs[0][3] == "n/a" else ("OK" if all(r[3] == "True" for r in rs) else "FAILED")
    print(f"| {name} | {clients.get(name, '')} | {m:,.0f} | {', '.join(f'{r[0]:,.0f}' for r in rs)} "
          f"| {statistics.median(r[1] for r in rs):.2f} | {statistics.median(r[2] for r in rs):.2f} "
          f"| {money} | {sum(r[4] for r in rs)} | {mcpu(rs, 5)} | {mcpu(rs, 6)} | {mcpu(rs, 7)} |")
print()
def ratio(a, b, text):
    if a in med and b in med and med[b] > 0:
        print(f"- {text}: {med[a] / med[b]:.2f}×")
ratio("http payments", "binary payments, 1 per call",
      "HTTP payments ÷ binary payments at one per call")
ratio("http payments", "binary payments, 64 per call", "HTTP payments ÷ binary payments batched")
ratio("wrk payments", "http payments", "wrk ÷ coffer-bench --http, payments")
ratio("wrk balance reads", "http balance reads", "wrk ÷ coffer-bench --http, balance reads")
ratio("http payments", "nginx constant 200 (ceiling)",
      "HTTP payments ÷ nginx answering a constant (no work, one process) with wrk")
if "nginx constant 200 (ceiling)" in med:
    print(f"- 50 000 payments/s would be {50000 / med['nginx constant 200 (ceiling)']:.2f}× "
          f"what nginx doing nothing reaches here ({med['nginx constant 200 (ceiling)']:,.0f}/s).")
if "http payments" in med:
    verdict = "met" if med["http payments"] >= 50000 else "not met"
    print(f"- Target 50 000 payments/s through the gateway: **{verdict}** "
          f"({med['http payments']:,.0f}/s).")
PY
)
nowrk=""
[ "$have_wrk" = 1 ] || nowrk="wrk is not installed on this machine (Debian package \`wrk\`), so the wrk rows are missing."
[ -n "$nginx_bin" ] || nowrk="$nowrk nginx is not installed (Debian package \`nginx-light\`), so the ceiling row is missing."
section=$(cat <<MD
<!-- gateway:begin -->
## Gateway (HTTP)

\`bench/peers/gateway.sh --members $members --seconds $seconds --runs $runs --connections $conns --gateway-threads $gthreads\`,
$(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores ($(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')).
cofferd (journal with real fdatasync, group commit), coffer-gateway ($gthreads HTTP thread(s)) and the
load generator all run on this one machine, over loopback (load average $load_before before,
$load_after after; the machine is shared, so figures are noisy). HTTP/1.1 keep-alive, one request in flight per connection;
$members members; payments of 100–10 000 minor units captured at once (wallet only). Each row:
the median of $runs runs of ${seconds} s, interleaved, fresh servers for each round (members set
up through HTTP, then the rows in this order); "all runs" lists them in order. Latency: per
request (HTTP), per call (binary). Money check: every member's balance read back equals the
acknowledged operations (binary: also the merchant's and the zero-sum change of the system accounts).
CPU µs/op: each process's CPU time (user + system) over the measured run ÷ operations (the binary
rows' "gateway" is the idle gateway); 2 cores give 2 000 000 µs per second in all, so the sum of
the three bounds the rate at about 2 000 000 ÷ sum per second even on an otherwise idle machine.

$table

$nowrk
<!-- gateway:end -->
MD
)
echo "$section"
if [ "$write" = 1 ]; then
  results=bench/RESULTS.md
  if grep -q '<!-- gateway:begin -->' "$results"; then
    awk -v s="$section" '
      /<!-- gateway:begin -->/ {print s; skip=1; next}
      /<!-- gateway:end -->/ {skip=0; next}
      !skip {print}' "$results" >"$results.tmp" && mv "$results.tmp" "$results"
  else
    printf '\n%s\n' "$section" >>"$results"
  fi
fi
