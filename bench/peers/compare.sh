#!/usr/bin/env bash
# Runs the same payment workload against Coffer and its peers (PostgreSQL 15,
# Redis 7), one after another on this machine, and writes the table into
# bench/RESULTS.md between the "peers" markers.
#   bench/peers/compare.sh [--members N] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/../.."
members=100000
seconds=20
while [ $# -gt 0 ]; do
  case $1 in
    --members) members=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
bash bench/peers/install.sh
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT

if [ -x build/coffer-bench ]; then
  bash bench/peers/coffer.sh --members "$members" --seconds "$seconds" >>"$rows"
else
  echo "compare.sh: build/coffer-bench is not built in this version; Coffer row skipped" >&2
fi
bash bench/peers/postgres.sh --members "$members" --seconds "$seconds" >>"$rows"
bash bench/peers/redis.sh --members "$members" --requests $((seconds * 20000)) >>"$rows"

note=""
if [ -z "$(awk -F'\t' '$1 == "coffer"' "$rows")" ]; then
  note="No Coffer row: this version has no coffer-bench yet, so the ratio column is empty."
fi
coffer_first=$(awk -F'\t' '$1 == "coffer" {print $5; exit}' "$rows")
coffer_best=$(awk -F'\t' '$1 == "coffer" && $5 > m {m = $5} END {print m + 0}' "$rows")
table=$(
  echo "| system | form | clients | durability | payments/s | p50 ms | p99 ms | Coffer unbatched ÷ this | best Coffer ÷ this |"
  echo "|---|---|---:|---|---:|---:|---:|---:|---:|"
  awk -F'\t' -v c1="${coffer_first:-0}" -v cb="${coffer_best:-0}" '{
    r1 = "—"; rb = "—"
    if ($1 != "coffer" && $5 > 0 && c1 > 0) { r1 = sprintf("%.1f×", c1 / $5); rb = sprintf("%.1f×", cb / $5) }
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, r1, rb
  }' "$rows"
)
section=$(cat <<MD
<!-- peers:begin -->
## Payments against peers

\`bench/peers/compare.sh --members $members --seconds $seconds\`, $(date -u +%Y-%m-%d),
$(nproc) cores ($(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')), everything
on loopback on this one machine. $members members; each payment debits 1–100 (PostgreSQL) or 50
(Redis) only when the balance suffices and records the entry under a unique payment id.

$table

$note
<!-- peers:end -->
MD
)
results=bench/RESULTS.md
if grep -q '<!-- peers:begin -->' "$results"; then
  awk -v s="$section" '
    /<!-- peers:begin -->/ {print s; skip=1; next}
    /<!-- peers:end -->/ {skip=0; next}
    !skip {print}' "$results" >"$results.tmp" && mv "$results.tmp" "$results"
else
  printf '\n%s\n' "$section" >>"$results"
fi
echo "$table"
