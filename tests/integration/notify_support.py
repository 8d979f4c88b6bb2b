"""Helpers for tests/integration/test_notify_*.py: local receivers standing in
for the Pushover, Mattermost, Signal and webhook APIs, a real SMTP server
(aiosmtpd), and a runner for the notifier driver (unit_notify with
HB_NOTIFY_SCRIPT), which runs the real notify::service and its channels."""
import http.server
import json
import os
import socket
import subprocess
import tempfile
import threading

BUILD = os.environ.get("HB_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A threaded HTTP server on 127.0.0.1 recording every POST. `statuses`
    is the list of status codes to answer in turn; the last one repeats."""

    def __init__(self, statuses=(200,), body=b'{"status":1}'):
        self.requests = []
        self.statuses = list(statuses)
        self.answer_body = body
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                data = self.rfile.read(length)
                status = outer.statuses[0] if len(outer.statuses) == 1 else outer.statuses.pop(0)
                outer.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                       "body": data, "status": status})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.answer_body)))
                self.end_headers()
                self.wfile.write(outer.answer_body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def ok(self):
        return [r for r in self.requests if r["status"] < 300]

    def json_bodies(self):
        return [json.loads(r["body"]) for r in self.ok()]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SmtpSink:
    """aiosmtpd on loopback, keeping every message it receives."""

    def __init__(self, **controller_kwargs):
        from aiosmtpd.controller import Controller

        outer = self
        self.messages = []

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.messages.append({"from": envelope.mail_from, "rcpt": list(envelope.rcpt_tos),
                                       "data": envelope.content.decode("utf-8", "replace")})
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **controller_kwargs)
        self.controller.start()

    def close(self):
        self.controller.stop()


def run_driver(config, steps, wait=20, timeout=60):
    """Runs the notifier with `config` (the server config tree) through
    `steps`; returns (journal records, metrics text)."""
    exe = os.path.join(BUILD, "tests", "unit_notify")
    assert os.path.exists(exe), "build unit_notify first: " + exe
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "script.json")
        journal = os.path.join(tmp, "journal.jsonl")
        metrics = os.path.join(tmp, "metrics.txt")
        with open(script, "w") as f:
            json.dump({"config": config, "steps": steps, "wait": wait, "journal": journal, "metrics": metrics}, f)
        env = dict(os.environ, HB_NOTIFY_SCRIPT=script)
        proc = subprocess.run([exe, "--gtest_filter=NotifyDriver.*"], env=env, capture_output=True, text=True,
                              timeout=timeout)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        with open(journal) as f:
            records = [json.loads(line) for line in f if line.strip()]
        with open(metrics) as f:
            return records, f.read()


def alert(host, path, level="WARNING", value=90.0, **kw):
    n = {"host": host, "kind": "alert", "level": level, "metric_path": path, "value": value}
    n.update(kw)
    return {"notification": n}
