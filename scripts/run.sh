#!/usr/bin/env bash
# The main job: installs, builds, then runs hbd with its built-in defaults
# (SQLite store under $XDG_STATE_HOME) and a local hbc reporting to it.
# Prints the web UI address; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD_DIR="${HB_BUILD_DIR:-build}"

"$BUILD_DIR/hbd" -f &
HBD=$!
trap 'kill $HBD ${HBC:-} 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
sleep 1
"$BUILD_DIR/hbc" localhost &
HBC=$!
echo
echo "Heartbeat is running: web UI at http://localhost:50004/live  (API: http://localhost:50004/api/0/hosts)"
echo "Press Ctrl-C to stop."
wait $HBD
