#!/usr/bin/env bash
# The main job: installs and builds, then runs `sluice demo` (a slow reference backend measured
# directly and through the gateway). Extra arguments go to `sluice demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
exec build/sluice demo "$@"
