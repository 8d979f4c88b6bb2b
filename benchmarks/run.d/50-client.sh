#!/usr/bin/env bash
# hbc's footprint beside collectd's agent figures (docs/CLIENT.md): hbc
# with cpu (incl. load), memory, disk and network plugins every 10 s (collectd's
# cpu + memory + df + interface + load at 10 s), HTB every 10 s, against a tiny
# Python UDP sink that answers ACKs. The run is shortened from 5 minutes to
# HB_CLIENT_BENCH_SECONDS (default 60); CPU is scaled to "per minute" from the
# steady state (after a 5 s warm-up, so start-up and config parsing are left
# out; the total including start-up is printed too). RSS is VmHWM (peak).
set -euo pipefail
cd "$(dirname "$0")/../.."
HBC="${HB_BUILD_DIR:-build-bench}/hbc"
[ -x "$HBC" ] || { echo "hbc not built ($HBC)"; exit 1; }
SECS="${HB_CLIENT_BENCH_SECONDS:-60}"
TMP="$(mktemp -d)"
SINK_PID=""
HBC_PID=""
cleanup() {
  [ -n "$HBC_PID" ] && kill "$HBC_PID" 2>/dev/null || true
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

/usr/bin/python3 - "$TMP/port" <<'PY' &
import json, socket, sys, time, zlib
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
while True:
    d, a = s.recvfrom(70000)
    try:
        m = json.loads(zlib.decompress(d) if d[:1] == b"\x78" else d)
    except Exception:
        continue
    if m.get("ID") == "HTB":
        s.sendto(json.dumps({"ID": "ACK", "seq": m["seq"], "ts": m.get("ts"), "server_ts": time.time(),
                             "request_update": 0}).encode(), a)
PY
SINK_PID=$!
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
PORT="$(cat "$TMP/port")"
cat > "$TMP/hbc.yaml" <<EOF
name: bench01
hb_port: $PORT
interval: 10
default_plugins: false
plugins:
  cpu_monitor: {interval: 10}
  memory_monitor: {interval: 10}
  disk_monitor: {interval: 10}
  network_monitor: {interval: 10}
EOF
"$HBC" -c "$TMP/hbc.yaml" 127.0.0.1 2>"$TMP/hbc.log" &
HBC_PID=$!
# CPU time in ns from schedstat (utime/stime ticks are too coarse for ~ms figures).
ticks() { cat /proc/"$HBC_PID"/task/*/schedstat | awk '{s += $1} END {print s}'; }
HZ=1000000000
sleep 5  # start-up (config, first samples) stays out of the steady-state window
T0="$(ticks)"
sleep "$((SECS - 5))"  # the measured window
T1="$(ticks)"
HWM_KB="$(awk '/VmHWM/ {print $2}' "/proc/$HBC_PID/status")"
RSS_KB="$(awk '/VmRSS/ {print $2}' "/proc/$HBC_PID/status")"
THREADS="$(awk '/Threads/ {print $2}' "/proc/$HBC_PID/status")"
kill "$HBC_PID"; wait "$HBC_PID" 2>/dev/null || true; HBC_PID=""
/usr/bin/python3 - "$T0" "$T1" "$HZ" "$SECS" "$HWM_KB" "$RSS_KB" "$THREADS" <<'PY'
import sys
t0, t1, hz, secs, hwm, rss, threads = (float(x) for x in sys.argv[1:])
steady_ms_per_min = (t1 - t0) / hz * 1000 * 60 / (secs - 5)
total_ms = t1 / hz * 1000
mib = hwm / 1024
def row(label, fig, target, ok):
    print(f"{label:<52} {fig:>14}   target {target:<24} {'OK' if ok else 'MISSED'}")
print(f"hbc, cpu+memory+disk+network every 10 s, {secs:.0f} s run (scaled to per minute), {threads:.0f} threads")
row("hbc CPU per minute (steady state)", f"{steady_ms_per_min:.1f} ms", "<= 14 ms (collectd 5.12)", steady_ms_per_min <= 14)
print(f"{'hbc CPU in the whole run incl. start-up':<52} {total_ms:>11.0f} ms")
row("hbc peak RSS (VmHWM)", f"{mib:.2f} MiB", "<= 6 MiB (collectd 3.2 MB)", mib <= 6)
print(f"{'hbc RSS at the end (VmRSS)':<52} {rss/1024:>10.2f} MiB")
print("note: CPU from /proc/<pid>/schedstat (ns, summed over all threads); HB_CLIENT_BENCH_SECONDS=300 gives the 5-minute run")
PY
