#!/usr/bin/env bash
# Memory per host (docs/ARCHITECTURE.md, "Memory per host"): hbd with journal and SQLite store,
# tool_fleet registering HB_MEM_HOSTS hosts (default 200,000: SQLite's page cache is full by then),
# then half as many more; the cost of a
# host is the RSS the second batch added divided by its size, which leaves out the fixed costs
# (SQLite's page cache, queues, buffers). Three fleets: HTB only (no plugin data; target <= 1 KiB),
# hbc's 9 plugins, and the 9 plugins with the three threshold rules of 95-fleet.sh (~1 % of hosts
# over them).
# Environment: HB_BUILD_DIR (hbd), HB_BENCH_DIR (tools), HB_MEM_HOSTS.
set -euo pipefail
BUILD="${HB_BUILD_DIR:-build-bench}"
BENCH="${HB_BENCH_DIR:-$BUILD/benchmarks}"
HBD="$BUILD/hbd"
N="${HB_MEM_HOSTS:-200000}"
for b in "$HBD" "$BENCH/tool_fleet"; do
  [ -x "$b" ] || { echo "93-host-memory: $b not built"; exit 1; }
done
TMP="$(mktemp -d "${TMPDIR:-/tmp}/hb-bench-mem.XXXXXX")"
HBD_PID=""
cleanup() {
  [ -n "$HBD_PID" ] && kill "$HBD_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$HBD_PID/status"; }
# The RSS once it stops moving (the store writer and the notifier finish the batch's work).
settled_rss() {
  local last=0 now
  for _ in $(seq 60); do
    sleep 1
    now=$(rss_kb)
    [ "$now" = "$last" ] && break
    last=$now
  done
  echo "$now"
}

# per_host NAME RULES FLEET-OPTIONS...: prints "NAME bytes-per-host".
per_host() {
  local name=$1 rules=$2; shift 2
  local hb_port http_port ws_port d="$TMP/$name"
  mkdir -p "$d"
  hb_port=$(free_port); http_port=$(free_port); ws_port=$(free_port)
  cat > "$d/hb.yaml" <<EOF
hb_port: $hb_port
hbd_host: 127.0.0.1
hbd_port: $http_port
ws_port: $ws_port
journal_dir: $d/journal
state_db: $d/hbd.sqlite
udp_rcvbuf: 33554432
max_new_hosts_per_minute: 0
max_hosts: 10000000
EOF
  if [ "$rules" = 1 ]; then
    cat >> "$d/hb.yaml" <<EOF
thresholds:
  cpu_monitor: {cpu_percent: {warning: 80, critical: 90}}
  memory_monitor: {percent: {warning: 90, critical: 95}}
  ping_monitor: {loss_percent: {warning: 10, critical: 40}}
EOF
  fi
  "$HBD" -c "$d/hb.yaml" -f > "$d/hbd.log" 2>&1 &
  HBD_PID=$!
  for _ in $(seq 400); do grep -q "hbd: ready" "$d/hbd.log" && break; sleep 0.05; done
  "$BENCH/tool_fleet" --port "$hb_port" --hosts "$N" --register --prefix a- "$@" > /dev/null
  local r1 r2 m=$((N / 2))
  r1=$(settled_rss)
  "$BENCH/tool_fleet" --port "$hb_port" --hosts "$m" --register --prefix b- "$@" > /dev/null
  r2=$(settled_rss)
  kill "$HBD_PID"; wait "$HBD_PID" 2>/dev/null || true
  HBD_PID=""
  echo "$name $(( (r2 - r1) * 1024 / m ))"
}

BARE=$(per_host bare 0 --no-plugins)
[ "${HB_MEM_BARE_ONLY:-0}" = 1 ] && { echo "bare: $BARE"; exit 0; }
PLUG=$(per_host plugins 0)
RULES=$(per_host rules 1)
/usr/bin/python3 - "$N" "$BARE" "$PLUG" "$RULES" <<'PY'
import sys
n = int(sys.argv[1])
bare, plug, rules = (int(a.split()[1]) for a in sys.argv[2:5])
def line(what, value, target, ok=None):
    mark = "" if ok is None else ("met" if ok else "NOT met")
    print(f"{what:<58} {value:>16}   target {target:<16} {mark}")
print(f"memory per host, marginal between {n:,} and {n + n // 2:,} hosts (RSS, journal and SQLite store on)")
line("a host with no plugin data (HTB only)", f"{bare:,} B", "<= 1 KiB", bare <= 1024)
line("a host with hbc's 9 plugins", f"{plug:,} B", "")
line("  ... and the 3 threshold rules (~1 % of hosts over)", f"{rules:,} B", "")
line("  the rules' share", f"{rules - plug:,} B", "")
PY
