#!/usr/bin/env bash
# install-deps.sh: installs the Debian 12 packages tack needs to build, test
# and run, and does nothing but say so when they are all there already (no
# apt-get update, no root needed then). Uses sudo when not run as root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config g++ clang-format
  libuv1-dev libwebsockets-dev libwebsockets-evlib-uv libconfig-dev
  liblmdb-dev lmdb-utils libcmocka-dev chromium
  libssl-dev libjansson-dev libjwt-dev libxgboost-dev
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || {
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  }
  sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
