#!/usr/bin/env bash
# Web UI: the live view against a real hbd, in headless Chromium, with HB_WEB_HOSTS hosts (default
# 10,000; beyond 20,000 they register through tool_fleet, and 1,000,000 need about 3 GiB for hbd).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -d web/node_modules/playwright-core ] || [ ! -x /usr/bin/chromium ]; then
  echo "web: skipped (run scripts/install-deps.sh for playwright-core and chromium)"; exit 0
fi
N="${HB_WEB_HOSTS:-10000}"
HB_BUILD_DIR="$(cd "${HB_BUILD_DIR:-build}" && pwd)" HB_SOURCE_DIR="$PWD" \
  timeout $((300 + N / 1000)) node web/scripts/bench-live.mjs "$N"
