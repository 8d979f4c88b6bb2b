#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every test
# (unit, integration, browser, package, fuzz) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${HB_BUILD_DIR:-build}"
ctest --output-on-failure --timeout 900 "$@"
