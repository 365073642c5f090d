#!/usr/bin/env bash
# Installs the Debian 12 packages Sluice needs (when root; otherwise prints the apt-get line and
# stops), then configures and builds. Usage: scripts/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config clang-format
  libasio-dev node-llhttp libtomlplusplus-dev libcli11-dev libhiredis-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nginx-light haproxy wrk procps chromium prometheus
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing packages. Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing: ${missing[*]}"
  # Installed servers (nginx, haproxy) must not start as services: tests run their own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_dir="${1:-build}"
shift || true
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
# SLUICE_BUILD_TARGETS (space-separated) builds just those targets; default: everything.
# shellcheck disable=SC2086
cmake --build "$build_dir" -j"$(nproc)" ${SLUICE_BUILD_TARGETS:+--target $SLUICE_BUILD_TARGETS}
