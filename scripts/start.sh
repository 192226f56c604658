#!/usr/bin/env bash
# Set-up command (1): installs the Debian packages, builds Release into build/,
# and starts cofferd and coffer-gateway with their defaults (API.md, "Running
# the servers"). Runs in the foreground; Ctrl-C stops both cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
mkdir -p data

pids=()
stop() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait || true
}
trap stop INT TERM EXIT

# Starts a program in the background and waits for its one "ready" line.
start_program() {
  local name=$1
  shift
  local log="data/$name.log"
  : >"$log"
  "build/$name" "$@" 2> >(tee -a "$log" >&2) &
  pids+=($!)
  for _ in $(seq 1 100); do
    grep -q "ready" "$log" 2>/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "start: $name exited; see $log" >&2; return 1; }
    sleep 0.1
  done
  echo "start: $name did not report ready within 10 s; see $log" >&2
  return 1
}

started=0
if [ -x build/cofferd ]; then
  start_program cofferd
  started=1
fi
# The gateway reads the token and admin key that cofferd creates in data/.
if [ -x build/coffer-gateway ] && [ "$started" -eq 1 ]; then
  start_program coffer-gateway
  started=1
  echo
  echo "Coffer gateway listening on http://127.0.0.1:8080"
  echo "Admin (platform) key: $(head -n 1 data/admin.key)"
  echo "Try: curl -s http://127.0.0.1:8080/healthz"
fi
if [ "$started" -eq 0 ]; then
  echo "start: built; this version has no cofferd yet, so nothing was started." >&2
  trap - EXIT
  exit 0
fi
echo "Press Ctrl-C to stop."
wait
