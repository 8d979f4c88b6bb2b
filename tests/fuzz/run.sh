#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_<target>.cpp) with clang-14, ASan and UBSan into
# <build>/fuzz and runs each for a bounded time (HB_FUZZ_SECONDS, default 25) on its committed
# seed corpus tests/fuzz/corpus/<target>/. Exits non-zero on any crash, leak, sanitizer report or
# broken invariant. Usage: tests/fuzz/run.sh [build-dir] [target...] (default: every target).
# Targets: decode (datagrams hbd reads), api_body (HTTP request bodies and headers), config
# (YAML/JSON configuration), replies (ACK/CMD/UPD as hbc and hbc_mini read them), mini_dns
# (hbc_mini's DNS answers, resolv.conf and hosts).
set -euo pipefail
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-${HB_BUILD_DIR:-$SRC/build}}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(decode api_body config replies mini_dns)
OUT="$BUILD/fuzz"
SECONDS_TO_RUN="${HB_FUZZ_SECONDS:-25}"
mkdir -p "$OUT"

libs_of() {
  case "$1" in
    decode) echo "-lz -lcrypto" ;;
    replies) echo "-lz" ;;
    config) echo "-lyaml-cpp -lpq -ldate-tz -lssl -lcrypto" ;;
    *) echo "" ;;
  esac
}
# Extra compiler flags: hbd's configuration reaches the active checks (Asio coroutines, which Asio
# detects only for GCC, so they are named here) and the store's connection string parser (libpq).
flags_of() {
  case "$1" in
    config) echo "-DASIO_HAS_CO_AWAIT=1 -DASIO_HAS_STD_COROUTINE=1 -I/usr/include/postgresql" ;;
    *) echo "" ;;
  esac
}
max_len_of() {
  case "$1" in
    decode | replies) echo 70000 ;;
    mini_dns) echo 4096 ;;
    *) echo 16384 ;;
  esac
}

status=0
for t in "${TARGETS[@]}"; do
  CPP="$SRC/tests/fuzz/fuzz_$t.cpp"
  [ -f "$CPP" ] || { echo "fuzz: no target $t" >&2; exit 2; }
  BIN="$OUT/fuzz_$t"
  # Rebuilt when the target or any header changed since the last build.
  if [ ! -x "$BIN" ] || [ -n "$(find "$SRC/include/heartbeat" "$CPP" "$SRC/tests/unit/json_reference.hpp" -newer "$BIN" 2>/dev/null | head -1)" ]; then
    # shellcheck disable=SC2046
    clang++-14 -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
      -DASIO_STANDALONE $(flags_of "$t") -I"$SRC/include" "$CPP" -o "$BIN" $(libs_of "$t")
  fi
  WORK="$(mktemp -d)"
  # New inputs go to the scratch directory; the committed corpus stays as it is.
  set +e
  (cd "$OUT" && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$BIN" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len_of "$t")" \
    -print_final_stats=1 -artifact_prefix="$OUT/fuzz_$t-" "$WORK" "$SRC/tests/fuzz/corpus/$t" \
    > "$OUT/fuzz_$t.log" 2>&1)
  rc=$?
  set -e
  tail -12 "$OUT/fuzz_$t.log"
  rm -rf "$WORK"
  if [ "$rc" -ne 0 ]; then
    echo "fuzz_$t: FAILED (exit $rc); reproducer in $OUT/fuzz_$t-*" >&2
    status=1
  else
    echo "fuzz_$t: ok (${SECONDS_TO_RUN}s, no crash, no leak)"
  fi
done
exit $status
