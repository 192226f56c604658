#!/usr/bin/env bash
# Debian packages for the peer comparison only (not needed to build or test).
set -euo pipefail
missing=()
for p in postgresql redis-server nginx-light; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged services; the comparison runs private instances.
for s in postgresql redis-server nginx; do "${sudo_cmd[@]}" service "$s" stop >/dev/null 2>&1 || true; done
