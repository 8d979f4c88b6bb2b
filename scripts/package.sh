#!/usr/bin/env bash
# Makes the Debian packages in build/packages/ ($HB_BUILD_DIR/packages): heartbeat-server,
# heartbeat-client, heartbeat-client-mini and libheartbeat-dev. CPack packages what the build
# directory built (it brings the build up to date first, as `make install` does; after
# scripts/build.sh nothing is compiled again), with the layout, units and maintainer scripts of
# packaging/ (docs/OPERATIONS.md "Install from the packages").
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${HB_BUILD_DIR:-build}"

for tool in cpack dpkg-shlibdeps help2man gzip; do
  command -v "$tool" >/dev/null || { echo "package: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
if [ ! -f web/static/vendor/uPlot.esm.js ]; then
  echo "package: web/static/vendor/uPlot.esm.js is missing (scripts/install-deps.sh runs npm install)" >&2
  exit 1
fi
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${HB_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
fi
cmake --build "$BUILD_DIR" -j"$(nproc)"

# Reproducible timestamps: the last commit's, when there is one.
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && git rev-parse HEAD >/dev/null 2>&1; then
  SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)"
  export SOURCE_DATE_EPOCH
fi
rm -rf "$BUILD_DIR/cpack" "$BUILD_DIR/packages"
mkdir -p "$BUILD_DIR/packages"
(cd "$BUILD_DIR" && cpack -G DEB --config CPackConfig.cmake >cpack.log 2>&1) || {
  cat "$BUILD_DIR/cpack.log" >&2
  exit 1
}
mv "$BUILD_DIR"/cpack/*.deb "$BUILD_DIR/packages/"
ls -1 "$BUILD_DIR"/packages/*.deb
