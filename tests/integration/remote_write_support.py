"""Receivers for the remote write tests: Debian's VictoriaMetrics and Prometheus started on free
loopback ports in a temporary directory, and a small local HTTP receiver that answers the way a
misbehaving one would (400, 429 with Retry-After, 503, slowly, by resetting the connection).

    with VictoriaMetrics(tmpdir) as vm:
        hbd config: {"remote_write": [{"name": "vm", "url": vm.write_url}]}
        vm.export('{__name__="heartbeat_host_up"}') -> [{"metric": {...}, "values": [...], "timestamps": [...]}]
"""

import json
import os
import signal
import socket
import socketserver
import struct
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler

from hbtest import free_port, wait_until


class VictoriaMetrics:
    """Debian's victoria-metrics on a free loopback port; stop() and start() again keep its data."""

    def __init__(self, tmpdir, port=None):
        self.port = port or free_port("tcp")
        self.data = os.path.join(tmpdir, f"vm-{self.port}")
        self.log_path = self.data + ".log"
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def write_url(self):
        return self.url + "/api/v1/write"

    def start(self, timeout=20):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["victoria-metrics", f"-httpListenAddr=127.0.0.1:{self.port}", f"-storageDataPath={self.data}",
             "-loggerLevel=WARN"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(lambda: urllib.request.urlopen(self.url + "/health", timeout=2).read() == b"OK",
                   timeout=timeout, what="VictoriaMetrics /health", alive=self._alive)
        return self

    def _alive(self):
        if self.proc.poll() is not None:
            with open(self.log_path, errors="replace") as f:
                raise RuntimeError(f"victoria-metrics exited with {self.proc.returncode}:\n{f.read()[-2000:]}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def export(self, match):
        """Raw samples of the series matching `match` (/api/v1/export: no latency offset, no dedup).
        What VictoriaMetrics holds in memory is flushed first, so everything it accepted is there."""
        urllib.request.urlopen(self.url + "/internal/force_flush", timeout=10).read()
        body = urllib.parse.urlencode({"match[]": match}).encode()
        with urllib.request.urlopen(self.url + "/api/v1/export", data=body, timeout=10) as r:
            return [json.loads(line) for line in r.read().decode().splitlines() if line]


class Prometheus:
    """Debian's prometheus with its remote write receiver on, its own storage in a temporary directory."""

    def __init__(self, tmpdir):
        self.port = free_port("tcp")
        self.dir = os.path.join(tmpdir, f"prometheus-{self.port}")
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write("global:\n  scrape_interval: 1h\n")
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def write_url(self):
        return self.url + "/api/v1/write"

    def start(self, timeout=30):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={self.config}", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-remote-write-receiver",
             "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(lambda: urllib.request.urlopen(self.url + "/-/ready", timeout=2).status == 200,
                   timeout=timeout, what="Prometheus /-/ready", alive=self._alive)
        return self

    def _alive(self):
        if self.proc.poll() is not None:
            with open(self.log_path, errors="replace") as f:
                raise RuntimeError(f"prometheus exited with {self.proc.returncode}:\n{f.read()[-2000:]}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def query(self, expr, at):
        """The instant vector of `expr` at Unix time `at`: [{"metric": {...}, "value": [ts, "v"]}]."""
        q = urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{q}", timeout=10) as r:
            body = json.loads(r.read())
        assert body["status"] == "success", body
        return body["data"]["result"]


class Receiver:
    """A local HTTP remote write receiver standing in for a misbehaving one. `script` is a list of
    answers for the requests in arrival order (then `default`): an int status (with an optional
    Retry-After as (status, seconds)), "reset" (close the connection with a TCP RST after reading the
    request) or ("slow", seconds) (answer 204 after a delay). Every request is recorded as
    (time, headers dict, body bytes, answer)."""

    def __init__(self, script=(), default=204):
        self.script = list(script)
        self.default = default
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    answer = outer.script.pop(0) if outer.script else outer.default
                    outer.requests.append((time.time(), dict(self.headers), body, answer))
                if answer == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if isinstance(answer, tuple) and answer[0] == "slow":
                    time.sleep(answer[1])
                    answer = 204
                retry_after = None
                if isinstance(answer, tuple):
                    answer, retry_after = answer
                text = b"" if answer == 204 else f"refused with {answer}".encode()
                self.send_response(answer)
                if retry_after is not None:
                    self.send_header("Retry-After", str(retry_after))
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def write_url(self):
        return f"http://127.0.0.1:{self.port}/api/v1/write"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def seen(self):
        with self.lock:
            return list(self.requests)
