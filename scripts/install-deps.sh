#!/usr/bin/env bash
# Installs every Debian and npm package the build, tests and benchmarks need.
# Idempotent: packages already present are skipped; safe to run on every test run.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PKGS=(
  build-essential cmake pkg-config clang-format
  libasio-dev librestinio-dev libhttp-parser-dev libfmt-dev  # Asio; RESTinio with its http-parser and fmt
  libyaml-cpp-dev zlib1g-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev sqlite3 libcli11-dev
  libhowardhinnant-date-dev tzdata  # IANA time zones for local-time rules
  libc-ares-dev  # DNS checks
  libpq-dev postgresql  # the PostgreSQL store (libpq); its tests start a real server
  libsimdjson-dev  # only the JSON baseline of benchmarks/bench_protocol.cpp
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
  python3 python3-pytest python3-aiosmtpd python3-yaml
  bind9 bind9-dnsutils bind9-utils monitoring-plugins-basic
  prometheus wrk iproute2 iputils-ping procps openssl curl jq
  chromium
  help2man lintian man-db systemd adduser  # Debian packages: man pages, checks, unit verification
  faketime  # libfaketime: steps hbd's wall clock in tests/integration/test_security_clock.py
  libsnappy-dev victoria-metrics libprotobuf-dev protobuf-compiler  # remote write; its tests and benchmark
)
# Node.js and npm: the machine's own when present (the image ships a newer one
# than Debian's, and Debian's npm conflicts with it).
if ! command -v npm >/dev/null 2>&1; then PKGS+=(nodejs npm); fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# Browser tests and web assets (uPlot) come from npm, pinned in web/package.json.
if [ -f web/package.json ]; then
  if [ ! -d web/node_modules ] || [ web/package.json -nt web/node_modules ] || [ ! -f web/static/vendor/uPlot.esm.js ]; then
    echo "install-deps: npm install in web/"
    (cd web && npm install --no-audit --no-fund --loglevel=error)
    touch web/node_modules
  fi
fi
