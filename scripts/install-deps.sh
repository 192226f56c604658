#!/usr/bin/env bash
# Installs exactly the Debian packages Coffer's build and tests need.
# Idempotent and quiet when everything is already present. Nothing is
# downloaded from anywhere but Debian's package archive.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  clang clang-format libclang-rt-14-dev
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  liblmdb-dev
  libflatbuffers-dev flatbuffers-compiler
  libconcurrentqueue-dev
  libbenchmark-dev
  libgtest-dev libgmock-dev
  libssl-dev
  curl
  wrk
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
