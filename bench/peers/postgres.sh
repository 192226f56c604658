#!/usr/bin/env bash
# The payment workload on PostgreSQL 15 (Debian's package), on loopback, with a
# private cluster in a temp dir: synchronous_commit=on, fsync on.
#   bench/peers/postgres.sh [--members N] [--seconds S] [--clients "16 64"]
# Prints one TSV line per (form, clients):
#   system  form  clients  durability  payments_per_s  p50_ms  p99_ms
set -euo pipefail
members=100000
seconds=20
clients_list="16 64"
while [ $# -gt 0 ]; do
  case $1 in
    --members) members=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients_list=$2; shift 2 ;;
    *) echo "postgres.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

bin=/usr/lib/postgresql/15/bin
[ -x "$bin/postgres" ] || { echo "postgres.sh: install Debian's postgresql (bench/peers/install.sh)" >&2; exit 2; }
work=$(mktemp -d /tmp/coffer-pg.XXXXXX)
chown postgres "$work" 2>/dev/null || true
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
port=54329
cleanup() { as_pg "$bin/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

as_pg "$bin/initdb" -D "$work/data" -A trust -U bench >/dev/null
cat >>"$work/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work'
synchronous_commit = on
fsync = on
max_connections = 200
shared_buffers = 512MB
CONF
as_pg "$bin/pg_ctl" -D "$work/data" -l "$work/log" -w start >/dev/null
psql() { /usr/bin/psql -h 127.0.0.1 -p $port -U bench -d postgres -q -v ON_ERROR_STOP=1 "$@"; }
psql <<SQL
CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
CREATE TABLE entries (id bigserial PRIMARY KEY, payment_id bigint NOT NULL UNIQUE,
                      account_id bigint NOT NULL, amount bigint NOT NULL);
INSERT INTO accounts SELECT g, 1000000000 FROM generate_series(1, $members) g;
VACUUM ANALYZE accounts;
SQL

# The fastest correct form: one prepared statement debits only when the
# balance suffices and records the entry only when it did.
cat >"$work/single.sql" <<'SQL'
\set aid random(1, :members)
\set amt random(1, 100)
\set pid random(1, 9000000000000000000)
WITH d AS (UPDATE accounts SET balance = balance - :amt WHERE id = :aid AND balance >= :amt RETURNING id) INSERT INTO entries (payment_id, account_id, amount) SELECT :pid, id, :amt FROM d;
SQL
# The plain form: BEGIN / lock and check / UPDATE / INSERT / COMMIT.
cat >"$work/plain.sql" <<'SQL'
\set aid random(1, :members)
\set amt random(1, 100)
\set pid random(1, 9000000000000000000)
BEGIN;
SELECT balance FROM accounts WHERE id = :aid FOR UPDATE \gset
\if :balance >= :amt
UPDATE accounts SET balance = balance - :amt WHERE id = :aid;
INSERT INTO entries (payment_id, account_id, amount) VALUES (:pid, :aid, :amt);
\endif
COMMIT;
SQL

percentile() {  # file of latencies in microseconds, percentile 0-100 -> ms
  sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int(NR*p/100); if (i<1) i=1; printf "%.3f", a[i]/1000}'
}

for form in single plain; do
  for clients in $clients_list; do
    rm -f "$work"/pgbench_log.*
    out=$(cd "$work" && /usr/bin/pgbench -h 127.0.0.1 -p $port -U bench -n -M prepared \
      -c "$clients" -j 2 -T "$seconds" -D members="$members" -f "$work/$form.sql" \
      --log --log-prefix="$work/pgbench_log" postgres 2>&1)
    tps=$(echo "$out" | awk '/^tps = / {print $3; exit}')
    cat "$work"/pgbench_log.* | awk '{print $3}' >"$work/lat"
    echo -e "postgresql\t$form\t$clients\tsynchronous_commit=on\t${tps%.*}\t$(percentile "$work/lat" 50)\t$(percentile "$work/lat" 99)"
  done
done
