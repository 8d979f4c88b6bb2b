#!/usr/bin/env bash
# API figures beside their targets: GET /api/0/hosts with 10,000 hosts under wrk (p99
# target <= 100 ms, req/s), and WebSocket fan-out of plugin events to 1,000 clients (delivery
# latency p50/p99 as seen by one Python reader process, deliveries/s, clients dropped; the reader
# parses ~6,000 frames/s, so events go out at 5/s by default: HB_API_WS_RATE, HB_API_WS_EVENTS). Starts its own hbd on
# free loopback ports and stops it on exit.
set -euo pipefail
HBD="${HB_BUILD_DIR:-build-bench}/hbd"
[ -x "$HBD" ] || { echo "hbd not built ($HBD)"; exit 1; }
command -v wrk >/dev/null || { echo "wrk not installed"; exit 1; }
ulimit -n 8192 2>/dev/null || true
exec /usr/bin/python3 - "$HBD" "${HB_API_HOSTS:-10000}" "${HB_API_WS_CLIENTS:-1000}" <<'PY'
import base64, json, os, re, selectors, signal, socket, subprocess, sys, tempfile, time, urllib.request

hbd_bin, n_hosts, n_ws = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def free_port(kind):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

d = tempfile.mkdtemp(prefix="hb-bench-api-")
hb, http, ws = free_port("udp"), free_port("tcp"), free_port("tcp")
cfg = os.path.join(d, "hb.yaml")
with open(cfg, "w") as f:
    json.dump({"hb_port": hb, "hbd_host": "127.0.0.1", "hbd_port": http, "ws_port": ws,
               "journal_enabled": False, "state_db": os.path.join(d, "s.sqlite"),
               "journal_dir": os.path.join(d, "j"),
               "max_new_hosts_per_minute": 0}, f)  # the hosts register at once
log = open(os.path.join(d, "hbd.log"), "wb")
proc = subprocess.Popen([hbd_bin, "-c", cfg, "-f"], stdout=log, stderr=subprocess.STDOUT,
                        env=dict(os.environ, XDG_STATE_HOME=d, HOME=d))
def stop():
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try: proc.wait(15)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()
try:
    deadline = time.time() + 20
    while b"hbd: ready" not in open(os.path.join(d, "hbd.log"), "rb").read():
        if time.time() > deadline or proc.poll() is not None:
            sys.exit("hbd did not start:\n" + open(os.path.join(d, "hbd.log")).read()[-2000:])
        time.sleep(0.05)

    # ---- 10,000 hosts, then wrk on /api/0/hosts
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(n_hosts):
        m = {"ID": "HTB", "name": f"host{i:05d}", "ver": 1, "seq": 1, "interval": 30, "ts": time.time(), "rtt": 1.0}
        u.sendto(json.dumps(m).encode(), ("127.0.0.1", hb))
        if i % 500 == 499: time.sleep(0.01)
    url = f"http://127.0.0.1:{http}/api/0/hosts"
    deadline = time.time() + 30
    while True:
        body = urllib.request.urlopen(url, timeout=10).read()
        hosts = len(json.loads(body))
        if hosts >= n_hosts or time.time() > deadline: break
        time.sleep(0.3)
    def wrk(threads, conns):
        return subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", "-d10s", "--latency", url],
                              capture_output=True, text=True, timeout=60).stdout
    def lat(out, label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m: return float("nan")
        return float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
    rps = lambda out: float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    one, many = wrk(1, 1), wrk(2, 8)
    p99 = lat(one, "99")
    print(f"{'GET /api/0/hosts, ' + str(hosts) + ' hosts (' + str(len(body) // 1024) + ' KiB), 1 client p50':<52} {lat(one, '50'):8.1f} ms")
    print(f"{'GET /api/0/hosts 1 client p99 (target <= 100 ms)':<52} {p99:8.1f} ms  {'OK' if p99 <= 100 else 'MISS'}")
    print(f"{'GET /api/0/hosts 8 clients p50 / p99':<52} {lat(many, '50'):8.1f} / {lat(many, '99'):.1f} ms")
    print(f"{'GET /api/0/hosts requests/s (1 client / 8 clients)':<52} {rps(one):8.1f} / {rps(many):.1f} /s")

    # ---- WebSocket fan-out
    sel = selectors.DefaultSelector()
    clients = []
    for i in range(n_ws):
        s = socket.create_connection(("127.0.0.1", ws), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall(f"GET /hbd HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        clients.append([s, b"", False])
    for c in clients:
        while b"\r\n\r\n" not in c[1]:
            c[1] += c[0].recv(4096)
        head, _, c[1] = c[1].partition(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n")[0], head
        c[0].setblocking(False)
        sel.register(c[0], selectors.EVENT_READ, c)
    n_events, lat_ms, delivered = int(os.environ.get("HB_API_WS_EVENTS", "50")), [], 0
    interval = 1.0 / float(os.environ.get("HB_API_WS_RATE", "5"))
    sent = {}
    def parse(c, now):
        global delivered
        buf = c[1]
        while len(buf) >= 2:
            n = buf[1] & 0x7F; off = 2
            if n == 126:
                if len(buf) < 4: break
                n = int.from_bytes(buf[2:4], "big"); off = 4
            elif n == 127:
                if len(buf) < 10: break
                n = int.from_bytes(buf[2:10], "big"); off = 10
            if len(buf) < off + n: break
            payload = buf[off:off + n]; buf = buf[off + n:]
            try:
                msg = json.loads(payload)
            except ValueError:
                continue
            if msg.get("type") == "plugin" and msg["data"].get("plugin") == "bench":
                k = msg["data"]["data"]["k"]
                if k in sent:
                    lat_ms.append((now - sent[k]) * 1000); delivered += 1
        c[1] = buf
    u.sendto(json.dumps({"ID": "HTB", "name": "wsbench", "ver": 1, "seq": 1, "interval": 30, "ts": time.time()}).encode(), ("127.0.0.1", hb))
    t0 = time.time()
    next_send, k = t0, 0
    while time.time() - t0 < n_events * interval + 20 and delivered < n_events * n_ws:
        now = time.time()
        if k < n_events and now >= next_send:
            sent[k] = time.time()
            u.sendto(json.dumps({"ID": "PLG", "name": "wsbench", "plugin": "bench", "kind": "monitor",
                                 "ts": time.time(), "data": {"k": k}}).encode(), ("127.0.0.1", hb))
            k += 1; next_send += interval
        for key, _ in sel.select(timeout=0.002):
            c = key.data
            try:
                chunk = c[0].recv(1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                sel.unregister(c[0]); c[2] = True; continue
            c[1] += chunk
            parse(c, time.time())
    elapsed = time.time() - t0
    lat_ms.sort()
    q = lambda p: lat_ms[min(len(lat_ms) - 1, int(p * len(lat_ms)))] if lat_ms else float("nan")
    closed = sum(1 for c in clients if c[2])
    print(f"{'WebSocket fan-out: ' + str(n_ws) + ' clients x ' + str(n_events) + ' events, delivered':<52} {delivered:8d} of {n_events * n_ws}")
    print(f"{'WebSocket delivery latency p50 / p99 (Python reader)':<52} {q(0.5):8.1f} / {q(0.99):.1f} ms")
    print(f"{'WebSocket deliveries/s (events at ' + str(round(1 / interval)) + '/s, x clients)':<52} {delivered / elapsed:8.0f} /s")
    print(f"{'WebSocket clients dropped by the server':<52} {closed:8d}")
    for c in clients: c[0].close()
finally:
    stop()
    import shutil; shutil.rmtree(d, ignore_errors=True)
PY
