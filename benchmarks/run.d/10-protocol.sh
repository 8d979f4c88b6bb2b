#!/usr/bin/env bash
# Protocol codec figures beside their targets (docs/PROTOCOL.md). Each figure is
# the fastest of several repetitions (CPU time), so that other load on a shared
# machine inflates it less; simdjson On-Demand on the same HTB runs beside ours.
set -euo pipefail
BENCH="${HB_BENCH_DIR:-build-bench/benchmarks}/bench_protocol"
[ -x "$BENCH" ] || { echo "bench_protocol not built ($BENCH)"; exit 1; }
"$BENCH" --benchmark_repetitions="${HB_BENCH_REPS:-7}" --benchmark_min_time="${HB_BENCH_MIN_TIME:-0.2}" \
  --benchmark_format=json --benchmark_out="${TMPDIR:-/tmp}/hb-bench-protocol.$$.json" >/dev/null 2>&1
trap 'rm -f "${TMPDIR:-/tmp}/hb-bench-protocol.$$.json"' EXIT
/usr/bin/python3 - "${TMPDIR:-/tmp}/hb-bench-protocol.$$.json" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
best = {}
for r in runs:
    if r.get("run_type") != "iteration":
        continue
    ns = r["cpu_time"] * {"ns": 1, "us": 1e3, "ms": 1e6}[r["time_unit"]]
    n = r["run_name"]
    best[n] = min(best.get(n, ns), ns)
def show(label, name, target_ns=None):
    if name not in best:
        print(f"{label:<46} (missing)"); return
    v = best[name]
    fig = f"{v:8.0f} ns" if v < 10000 else f"{v/1000:8.2f} us"
    if target_ns is None:
        print(f"{label:<46} {fig}")
    else:
        tgt = f"{target_ns:.0f} ns" if target_ns < 10000 else f"{target_ns/1000:.0f} us"
        verdict = "OK" if v <= target_ns else "MISSED"
        print(f"{label:<46} {fig}   target <= {tgt:<8} {verdict}")
show("HTB decode + validate (ours)", "BM_htb_decode", 250)
show("HTB parse (simdjson On-Demand, baseline)", "BM_htb_simdjson_ondemand")
if "BM_htb_decode" in best and "BM_htb_simdjson_ondemand" in best:
    ratio = best["BM_htb_decode"] / best["BM_htb_simdjson_ondemand"]
    print(f"{'  ours / simdjson (same run)':<46} {ratio:8.2f} x")
    # simdjson took 174 ns on an idle machine when the targets were set; on a busy one
    # the ratio is the robust figure, scaled here to that reference.
    scaled = ratio * 174
    print(f"{'  HTB at the 174 ns simdjson reference':<46} {scaled:8.0f} ns   target <= 250 ns   "
          f"{'OK' if scaled <= 250 else 'MISSED'}")
    # The same normalisation for the other targets (the machine's speed in this run,
    # measured by the simdjson baseline, relative to that idle figure).
    speed = 174 / best["BM_htb_simdjson_ondemand"]
    for label, name, target in (("  PLG 2 KB text, normalised", "BM_plg2k_text_decode", 3000),
                                ("  PLG 2 KB zlib, normalised", "BM_plg2k_zlib_decode", 8000)):
        if name in best:
            v = best[name] * speed
            print(f"{label:<46} {v:8.0f} ns   target <= {target} ns  {'OK' if v <= target else 'MISSED'}")
show("PLG 2 KB text decode + validate + leaves", "BM_plg2k_text_decode", 3000)
show("PLG 2 KB zlib decode + validate + leaves", "BM_plg2k_zlib_decode", 8000)
show("envelope verify, HMAC-SHA256 (OpenSSL)", "BM_envelope_verify_openssl")
show("envelope verify, HMAC-SHA256 (built-in)", "BM_envelope_verify_builtin")
show("HTB authenticated decode (whole path)", "BM_htb_authenticated_decode")
show("HTB encode", "BM_htb_encode")
show("ACK encode", "BM_ack_encode")
show("PLG 2 KB deflate (reused stream)", "BM_plg2k_deflate", 16500)
PY
