#!/usr/bin/env bash
# Runs every test: installs and builds first (warnings are errors), then the whole suite, then
# the unit and gateway tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build -DSLUICE_WERROR=ON
(cd build && ctest --output-on-failure -j2)

# Only what the sanitised run needs: the binary, every unit suite (tests/unit/<module> builds
# unit_<module>) and the gateway suite.
SLUICE_BUILD_TARGETS="sluice it_gateway $(cd tests/unit && for m in */; do printf 'unit_%s ' "${m%/}"; done)" \
  scripts/setup.sh build-asan -DSLUICE_WERROR=ON -DSLUICE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The gigabyte transfers are left to the optimised build; everything else runs sanitised.
(cd build-asan && GTEST_FILTER='-Bodies.OneGigabyte*' ctest --output-on-failure -j2 -R '^(unit_.*|it_gateway)$')
