#!/usr/bin/env bash
# Active checks figures beside their targets: 10,000 HTTP checks a minute (interval 60 s) on one
# hbd against a local server (benchmarks/tool_httpd.cpp); hbd's CPU over a measured window
# (target <= 25 % of one core) and how late runs start (p99 target <= 1 s, from hbd's own
# heartbeat_check_start_delay_p50/p99_seconds). HB_CHECKS_N, HB_CHECKS_WINDOW (seconds) change the load
# and the window. Starts its own hbd and server on loopback and stops them on exit.
set -euo pipefail
HBD="${HB_BUILD_DIR:-build-bench}/hbd"
HTTPD="${HB_BENCH_DIR:-${HB_BUILD_DIR:-build-bench}/benchmarks}/tool_httpd"
[ -x "$HBD" ] || { echo "hbd not built ($HBD)"; exit 1; }
[ -x "$HTTPD" ] || { echo "tool_httpd not built ($HTTPD)"; exit 1; }
ulimit -n 8192 2>/dev/null || true
exec /usr/bin/python3 - "$HBD" "$HTTPD" "${HB_CHECKS_N:-10000}" "${HB_CHECKS_WINDOW:-60}" <<'PY'
import json, os, signal, socket, subprocess, sys, tempfile, time, urllib.request

hbd_bin, httpd_bin, n, window = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
tick = os.sysconf("SC_CLK_TCK")

def free_port(kind):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick

d = tempfile.mkdtemp(prefix="hb-bench-checks-")
server = subprocess.Popen([httpd_bin, "0"], stdout=subprocess.PIPE, text=True)
port = int(server.stdout.readline().split()[1])
hb, http = free_port("udp"), free_port("tcp")
checks = {f"web{i:05d}": {"type": "http", "url": f"http://127.0.0.1:{port}/health/{i}", "interval": 60, "timeout": 5}
          for i in range(n)}
cfg = os.path.join(d, "hb.json")
with open(cfg, "w") as f:
    json.dump({"hb_port": hb, "hbd_host": "127.0.0.1", "hbd_port": http, "ws_port": 0, "journal_enabled": False,
               "state_db": os.path.join(d, "s.sqlite"), "journal_dir": os.path.join(d, "j"), "checks": checks}, f)
log = open(os.path.join(d, "hbd.log"), "wb")
proc = subprocess.Popen([hbd_bin, "-c", cfg, "-f"], stdout=log, stderr=subprocess.STDOUT,
                        env=dict(os.environ, XDG_STATE_HOME=d, HOME=d))

def metric(name):
    body = urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=10).read().decode()
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return float("nan")

try:
    deadline = time.time() + 60
    while b"hbd: ready" not in open(os.path.join(d, "hbd.log"), "rb").read():
        if time.time() > deadline or proc.poll() is not None:
            sys.exit("hbd did not start:\n" + open(os.path.join(d, "hbd.log")).read()[-2000:])
        time.sleep(0.05)
    time.sleep(5)  # past start-up (the configuration parse), into the steady spread of runs
    runs0, cpu0, t0 = metric("heartbeat_check_runs_total"), cpu_seconds(proc.pid), time.time()
    srv0 = cpu_seconds(server.pid)
    time.sleep(window)
    runs1, cpu1, t1 = metric("heartbeat_check_runs_total"), cpu_seconds(proc.pid), time.time()
    srv1 = cpu_seconds(server.pid)
    p99 = metric('heartbeat_check_start_delay_p99_seconds')
    p50 = metric('heartbeat_check_start_delay_p50_seconds')
    skipped = metric("heartbeat_check_runs_skipped_total")
    failing = metric("heartbeat_checks_failing")
    cpu = 100 * (cpu1 - cpu0) / (t1 - t0)
    rate = (runs1 - runs0) / (t1 - t0) * 60
    print(f"{'HTTP checks configured (interval 60 s)':<52} {n:8d}")
    print(f"{'check runs per minute (target ' + str(n) + ')':<52} {rate:8.0f} /min  {'OK' if rate >= 0.97 * n else 'MISS'}")
    print(f"{'hbd CPU over ' + str(int(window)) + ' s (target <= 25 % of one core)':<52} {cpu:8.1f} %  {'OK' if cpu <= 25 else 'MISS'}")
    print(f"{'run start delay p99 (target <= 1 s)':<52} {p99:8.3f} s  {'OK' if p99 <= 1 else 'MISS'}")
    print(f"{'run start delay p50':<52} {p50:8.3f} s")
    print(f"{'runs skipped / checks failing':<52} {skipped:8.0f} / {failing:.0f}")
    print(f"{'local HTTP server CPU (tool_httpd)':<52} {100 * (srv1 - srv0) / (t1 - t0):8.1f} %")
finally:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try: proc.wait(30)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()
    server.kill(); server.wait()
PY
