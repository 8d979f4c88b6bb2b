#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every test
# (unit, integration, browser, package, fuzz) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${HB_BUILD_DIR:-build}"
# Two suites at a time (the package suite runs alone); HB_TEST_JOBS=1 runs them one by one.
ctest --output-on-failure --timeout 900 -j"${HB_TEST_JOBS:-2}" "$@"
