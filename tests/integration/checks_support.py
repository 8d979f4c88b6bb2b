"""Helpers for tests/integration/test_checks*.py: certificates made by `openssl` (a test CA, a
certificate it signed, one that expires in 5 days, a self-signed one) and real HTTPS servers on
loopback (Python's http.server with ssl) that answer 200, 500 or slowly, as told."""
import http.server
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def _run(*args, cwd):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class Certs:
    """ca.pem (the test CA), valid.pem/.key (signed by it, a year), expiring.pem/.key (signed by it,
    5 days), selfsigned.pem/.key; every one for IP 127.0.0.1 and DNS localhost."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hbtest-certs-")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        with open(os.path.join(self.dir, "san.cnf"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        _run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=hbtest CA",
             cwd=self.dir)
        for name, days in (("valid", "365"), ("expiring", "5")):
            _run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=localhost", cwd=self.dir)
            _run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", days, "-extfile", "san.cnf", cwd=self.dir)
        _run("req", "-x509", *ec, "-keyout", "selfsigned.key", "-out", "selfsigned.pem", "-days", "365",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", cwd=self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    @property
    def ca(self):
        return self.path("ca.pem")

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class WebServer:
    """An HTTP(S) server on 127.0.0.1: /health answers `self.status` with body `self.body`, /ok 200,
    /fail 500, /slow waits `self.delay` seconds then 200. `cert` is a name in Certs (None: plain HTTP)."""

    def __init__(self, certs=None, cert=None):
        self.status = 200
        self.body = b"ok"
        self.delay = 3.0
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                outer.requests += 1
                status, body = 200, b"ok"
                if self.path == "/health":
                    status, body = outer.status, outer.body
                elif self.path == "/fail":
                    status, body = 500, b"broken"
                elif self.path == "/slow":
                    time.sleep(outer.delay)
                elif self.path != "/ok":
                    status, body = 404, b"not found"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a client giving up (timeouts, failed handshakes) is expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        if cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certs.path(cert + ".pem"), certs.path(cert + ".key"))
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
        self.port = self.server.server_address[1]
        self.url = ("https" if cert else "http") + "://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Listener:
    """A TCP port that accepts (and drops) connections while open; closed() frees it again."""

    def __init__(self, port=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                c, _ = self.sock.accept()
                c.close()
            except OSError:
                continue

    def close(self):
        self._stop = True
        self.thread.join(2)
        self.sock.close()


def closed_port():
    """A loopback TCP port nobody listens on."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
