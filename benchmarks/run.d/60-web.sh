#!/usr/bin/env bash
# Web UI: the live view with 10,000 hosts against a real hbd, in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -d web/node_modules/playwright-core ] || [ ! -x /usr/bin/chromium ]; then
  echo "web: skipped (run scripts/install-deps.sh for playwright-core and chromium)"; exit 0
fi
HB_BUILD_DIR="$(cd "${HB_BUILD_DIR:-build}" && pwd)" HB_SOURCE_DIR="$PWD" \
  timeout 300 node web/scripts/bench-live.mjs 10000
