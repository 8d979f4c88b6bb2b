"""hbc beyond heartbeats and the standard plugins: the `serve:` HTTP endpoint (plugin data as JSON and
Prometheus text, API key, CORS allow-list), the exec plugin, and datagrams
too large for UDP that are logged with the plugin's name and size, not sent."""

import os
import stat
import urllib.error
import urllib.request

from client_support import Hbc, plugins_of
from hbtest import Hbd, free_port


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def script(hbd, name, body):
    path = os.path.join(hbd.dir, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, stat.S_IRWXU)
    return path


def test_serve_endpoint_exec_plugin_and_oversize_data():
    with Hbd({"interval": 1, "grace": 5}) as hbd:
        port = free_port("tcp")
        queue = script(hbd, "queue.sh", "echo '{\"queue_depth\": 7, \"healthy\": true}'")
        # ~100 KB of incompressible hex: over the UDP limit even compressed.
        huge = script(hbd, "huge.sh", "printf '{\"blob\": \"'; head -c 70000 /dev/urandom | od -An -tx1 | tr -d ' \\n'; printf '\"}'")
        cfg = {"default_plugins": False,
               "plugins": {"memory_monitor": {"interval": 1},
                           "queue": {"type": "exec", "command": queue, "interval": 1},
                           "huge": {"type": "exec", "command": huge, "interval": 60}},
               "serve": {"port": port, "api_key": "s3cret", "cors_origins": ["http://dash.local"]}}
        with Hbc(hbd, cfg) as hbc:
            d = hbd.wait_for(lambda: plugins_of(hbd, "client01").get("queue", {}).get("data"), 15, "exec data")
            assert d == {"queue_depth": 7, "healthy": True}
            base = f"http://127.0.0.1:{port}"
            hbd.wait_for(lambda: get(base + "/memory_monitor?apikey=s3cret")[0] == 200, 10, "served data")
            st, hdrs, body = get(base + "/memory_monitor", {"X-API-Key": "s3cret", "Origin": "http://dash.local"})
            assert st == 200 and '"percent"' in body
            assert hdrs.get("Access-Control-Allow-Origin") == "http://dash.local"
            st, hdrs, _ = get(base + "/memory_monitor", {"X-API-Key": "s3cret", "Origin": "http://evil.local"})
            assert st == 200 and "Access-Control-Allow-Origin" not in hdrs
            assert get(base + "/metrics")[0] == 401
            st, hdrs, body = get(base + "/metrics", {"Authorization": "Bearer s3cret"})
            assert st == 200 and hdrs["Content-Type"].startswith("text/plain")
            assert 'hbc_plugin_value{plugin="memory_monitor",metric="percent"}' in body
            assert 'hbc_plugin_value{plugin="queue",metric="queue_depth"} 7' in body
            assert get(base + "/nope?apikey=s3cret")[0] == 404
            hbd.wait_for(lambda: "huge: data is" in hbc.log(), 10, "the oversize log line")
            assert "datagram limit; not sent" in hbc.log()
            assert "huge" not in plugins_of(hbd, "client01")
