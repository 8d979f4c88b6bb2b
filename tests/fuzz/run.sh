#!/usr/bin/env bash
# Builds tests/fuzz/fuzz_decode.cpp with clang-14, libFuzzer, ASan and UBSan into
# <build>/fuzz and runs it for a bounded time (HB_FUZZ_SECONDS, default 60) on the
# committed seed corpus. Exits non-zero on any crash, leak, sanitizer report or
# broken invariant. Usage: tests/fuzz/run.sh [build-dir]
set -euo pipefail
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-${HB_BUILD_DIR:-$SRC/build}}"
OUT="$BUILD/fuzz"
SECONDS_TO_RUN="${HB_FUZZ_SECONDS:-60}"
mkdir -p "$OUT"
BIN="$OUT/fuzz_decode"
if [ ! -x "$BIN" ] || [ -n "$(find "$SRC/include/heartbeat/protocol" "$SRC/include/heartbeat/core" "$SRC/tests/fuzz/fuzz_decode.cpp" "$SRC/tests/unit/json_reference.hpp" -newer "$BIN" 2>/dev/null | head -1)" ]; then
  clang++-14 -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$SRC/include" "$SRC/tests/fuzz/fuzz_decode.cpp" -o "$BIN" -lz -lcrypto
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# New inputs go to the scratch directory; the committed corpus stays as it is.
cd "$OUT"
set +e
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1 \
  "$BIN" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 -max_len=70000 \
  -print_final_stats=1 -artifact_prefix="$OUT/" "$WORK" "$SRC/tests/fuzz/corpus" 2>&1 | tail -25
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "fuzz_decode: FAILED (exit $status); reproducer in $OUT/" >&2
  exit 1
fi
echo "fuzz_decode: ok (${SECONDS_TO_RUN}s, no crash, no leak)"
