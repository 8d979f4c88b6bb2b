#!/usr/bin/env bash
# A fleet on one box (docs/OPERATIONS.md, "Benchmarks"): hbd with journal, SQLite store and three
# threshold rules, fed by tool_fleet (100,000 hosts, or 1,000,000 with HB_MILLION=1; an HTB every
# 30 s and hbc's 9 plugins every 300 s each, ~1 % of hosts over the rules) for HB_FLEET_SECONDS
# (default 300). Prints, beside each target: datagram loss, RSS (and per host), GET
# /api/0/hosts?limit=100 and GET /api/0/alerts p99 while it runs, graceful stop time,
# restart-to-serving time (all hosts back from the store), and the idle wake-ups of the
# restarted hbd's threads (voluntary context switches over 10 s, no traffic).
# Environment: HB_BUILD_DIR (hbd), HB_BENCH_DIR (tools), HB_FLEET_HOSTS, HB_FLEET_SECONDS.
set -euo pipefail
BUILD="${HB_BUILD_DIR:-build-bench}"
BENCH="${HB_BENCH_DIR:-$BUILD/benchmarks}"
HBD="$BUILD/hbd"
N="${HB_FLEET_HOSTS:-100000}"
[ "${HB_MILLION:-0}" = 1 ] && N=1000000
SECS="${HB_FLEET_SECONDS:-300}"
for b in "$HBD" "$BENCH/tool_fleet"; do
  [ -x "$b" ] || { echo "95-fleet: $b not built"; exit 1; }
done
TMP="$(mktemp -d "${TMPDIR:-/tmp}/hb-bench-fleet.XXXXXX")"
HBD_PID=""
cleanup() {
  [ -n "$HBD_PID" ] && kill "$HBD_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p"; }
HB_PORT=$(free_port); HTTP_PORT=$(free_port); WS_PORT=$(free_port)
API="http://127.0.0.1:$HTTP_PORT"
cat > "$TMP/hb.yaml" <<EOF
hb_port: $HB_PORT
hbd_host: 127.0.0.1
hbd_port: $HTTP_PORT
ws_port: $WS_PORT
journal_dir: $TMP/journal
state_db: $TMP/hbd.sqlite
udp_rcvbuf: 33554432
max_new_hosts_per_minute: 0  # the fleet registers every host in its first 30 s
max_hosts: 10000000
thresholds:
  cpu_monitor: {cpu_percent: {warning: 80, critical: 90}}
  memory_monitor: {percent: {warning: 90, critical: 95}}
  ping_monitor: {loss_percent: {warning: 10, critical: 40}}
EOF
start_hbd() {
  "$HBD" -c "$TMP/hb.yaml" -f >> "$TMP/hbd.log" 2>&1 &
  HBD_PID=$!
}
wait_ready() {
  for _ in $(seq 1200); do grep -q "hbd: ready" "$TMP/hbd.log" && return 0; sleep 0.05; done
  echo "95-fleet: hbd did not start:"; tail -5 "$TMP/hbd.log"; exit 1
}
# The datagram counter from /api/0/stats: a /metrics scrape renders every host's series (several KB
# a host), which would itself inflate the RSS measured here.
received() { curl -s "$API/api/0/stats" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["datagrams_received"])'; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$HBD_PID/status"; }

start_hbd; wait_ready
# Registration: one HTB per host (a million take 20 s at 50,000/s). Their plugins arrive in the
# steady state, spread over 300 s, as hbc sends them: registering 9 PLGs a host too would take
# 200 s at a million, longer than interval + grace, and the first hosts would go DOWN meanwhile.
# Runs of HB_FLEET_SECONDS >= 300 therefore measure RSS with every host's plugin data.
"$BENCH/tool_fleet" --port "$HB_PORT" --hosts "$N" --register --no-plugins > "$TMP/register.txt"
R0=$(received)

# The steady state, with the API asked twice a second per route and RSS sampled meanwhile.
"$BENCH/tool_fleet" --port "$HB_PORT" --hosts "$N" --duration "$SECS" > "$TMP/fleet.txt" &
FLEET_PID=$!
/usr/bin/python3 - "$API" "$SECS" "$HBD_PID" > "$TMP/api.txt" <<'PY' &
import sys, time, urllib.request
api, secs, pid = sys.argv[1], float(sys.argv[2]), sys.argv[3]
times = {"hosts": [], "alerts": []}
rss = 0
end = time.time() + secs
while time.time() < end:
    for name, path in (("hosts", "/api/0/hosts?limit=100"), ("alerts", "/api/0/alerts")):
        t = time.perf_counter()
        try:
            urllib.request.urlopen(api + path, timeout=30).read()
            times[name].append(time.perf_counter() - t)
        except Exception:
            times[name].append(30.0)
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                rss = max(rss, int(line.split()[1]))
    time.sleep(0.5)
def p99(v):
    v = sorted(v)
    return v[min(len(v) - 1, int(0.99 * (len(v) - 1) + 0.5))] if v else 0
print(f"hosts_p99={p99(times['hosts']):.4f} alerts_p99={p99(times['alerts']):.4f} "
      f"hosts_n={len(times['hosts'])} rss_max_kb={rss}")
PY
API_PID=$!
wait "$FLEET_PID"; wait "$API_PID"
sleep 1
RSS_END=$(rss_kb)
R1=$(received)
ALERTS=$(curl -s "$API/api/0/alerts" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["total"])' || echo "?")

# Graceful stop, then a restart from the store: until GET /api/0/hosts counts every host it knew
# (a host whose registration was lost is not waited for).
host_count() { (curl -s -D - -o /dev/null "$API/api/0/hosts?limit=1" 2>/dev/null || true) | tr -d '\r' | awk -F': ' 'tolower($1) == "x-total-count" {print $2}' || true; }
KNOWN=$(host_count)
KNOWN=${KNOWN:-$N}
T0=$(date +%s.%N)
kill -TERM "$HBD_PID"; wait "$HBD_PID" || true
STOP_S=$(echo "$(date +%s.%N) - $T0" | bc)
HBD_PID=""
: > "$TMP/hbd.log"
T0=$(date +%s.%N)
start_hbd
RESTART_S=""
for _ in $(seq 1200); do  # 120 s at most
  c=$(host_count)
  if [ "${c:-0}" -ge "$KNOWN" ] 2>/dev/null; then RESTART_S=$(echo "$(date +%s.%N) - $T0" | bc); break; fi
  sleep 0.1
done
# Idle: every host restored and healthy, no traffic: wake-ups of all threads over 10 s.
sleep 3
vol() { cat /proc/"$HBD_PID"/task/*/status | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s}'; }
V0=$(vol); sleep 10; V1=$(vol)
WAKES=$(( (V1 - V0) / 10 ))

/usr/bin/python3 - "$N" "$(cat "$TMP/fleet.txt")" "$(cat "$TMP/api.txt")" "$RSS_END" "$R0" "$R1" "$STOP_S" \
  "${RESTART_S:-inf}" "$WAKES" "$ALERTS" <<'PY'
import sys
n = int(sys.argv[1])
f = dict(kv.split("=") for kv in sys.argv[2].split())
a = dict(kv.split("=") for kv in sys.argv[3].split())
rss_kb = max(int(sys.argv[4]), int(a["rss_max_kb"]))
received = float(sys.argv[6]) - float(sys.argv[5])
sent = int(f["htb"]) + int(f["plg"])
def line(what, value, target, ok):
    print(f"{what:<58} {value:>16}   target {target:<16} {'met' if ok else 'NOT met'}")
print(f"fleet: {n:,} hosts, {f['elapsed']} s, {sent / float(f['elapsed']):,.0f} datagrams/s "
      f"(HTB {f['htb']}, PLG {f['plg']}); load generator {float(f['cpu_s']) / float(f['elapsed']) * 100:.0f} % of a core; "
      f"{sys.argv[10]} alerts raised")
line("HTB without ACK", f"{float(f['loss']) * 100:.3f} %", "0", float(f["loss"]) == 0)
lost = max(0.0, 1 - received / sent) if sent else 0
line("datagrams not received by hbd", f"{lost * 100:.3f} %", "0", lost == 0)
line("hbd RSS (max while running)", f"{rss_kb / 1024:,.0f} MiB", "<= 4 GiB at 1 M", rss_kb <= 4 * 1024 * 1024 * n / 1e6)
line("  per host", f"{rss_kb * 1024 / n / 1024:.1f} KiB", "<= 4 KiB", rss_kb * 1024 / n <= 4096)
line("GET /api/0/hosts?limit=100 p99", f"{float(a['hosts_p99']) * 1000:.1f} ms", "<= 20 ms", float(a["hosts_p99"]) <= 0.02)
line("GET /api/0/alerts p99", f"{float(a['alerts_p99']) * 1000:.1f} ms", "<= 50 ms", float(a["alerts_p99"]) <= 0.05)
line("graceful stop", f"{float(sys.argv[7]):.1f} s", "<= 10 s", float(sys.argv[7]) <= 10)
line("restart until every host is served", f"{float(sys.argv[8]):.1f} s", "<= 60 s", float(sys.argv[8]) <= 60)
line("idle wake-ups, all threads (restored hosts, no traffic)", f"{sys.argv[9]} /s", "<= 20 /s", int(sys.argv[9]) <= 20)
PY
