"""Shared helpers for Heartbeat integration tests (stdlib + PyYAML only).

Start the real hbd on free loopback ports in a temporary directory, speak the
wire protocol over UDP (optional HBA1 envelope, optional zlib), and call the
HTTP API. Everything started here is stopped by Hbd.stop() / the context
manager, also when a test fails.

    from hbtest import Hbd, Client

    def test_up():
        with Hbd({"grace": 2}) as hbd:
            c = Client("web01", hbd.hb_port)
            ack = c.heartbeat(interval=1)
            assert ack["ID"] == "ACK"
            hbd.wait_host_state("web01", "UP")

Stable API (others build on it; only add, never change):
  free_port(kind), free_ports(n)
  encode(obj, key_id=None, key=None, compress=False) -> bytes
  decode(datagram, key=None) -> dict
  Hbd(config=None, tmpdir=None, verbose=True, binary=None, extra_args=(), env=None)
    .start(timeout) .stop(timeout) -> rc  .kill9()  .sighup()  .restart()
    .write_config(config)  .log() .wait_log(text, timeout)
    .hb_port .hbd_port .ws_port .dir .config_path .log_path .pid .proc .config
    .url(path)  .http(method, path, body=None, headers=None, token=None) -> (status, headers, bytes)
    .get_json(path, token=None)  .post_json(path, obj, token=None)  (raise HttpError on >= 400)
    .hosts()  .host(name)  .messages()  .wait_for(pred, timeout, what, ok=None)
    .wait_host_state(name, state, timeout)  .metric(name, **labels)  .state_db(sql, *params)
  Client(name, port, host="127.0.0.1", key=None, timeout=2.0)
    .htb(...) -> seq  .heartbeat(...) -> ACK dict  .plg(plugin, data, ...)  .msg(text, event)
    .res(cmd_id, rc, output)  .send_json(obj, compress=False)  .send_raw(bytes)
    .recv(timeout) -> dict|None  .recv_all(timeout) -> [dict]  .inbox (CMD/UPD seen)  .received (all)
    .replies_so_far(marker) -> [dict]  .close()
  wait_until(probe, ok=bool, timeout, what) -> the value that satisfied ok
  read_json_lines(path) -> [dict] (complete lines of a journal file; [] while it does not exist)
  hb_binary(name) -> path of hbd/hbc/hbc_mini in HB_BUILD_DIR

Tests wait for what they check, never for a fixed time: poll the API, /metrics, the journal or
state_db with wait_until / Hbd.wait_for until the condition holds, with a deadline; on timeout
the error names what was awaited and the last value seen.
"""

import hashlib
import hmac
import json
import math
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zlib

import yaml

SOURCE_DIR = os.environ.get("HB_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("HB_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")


def ms(ts):
    """A wall time in whole milliseconds as hbd stamps remote-write samples: rounded half away from
    zero (std::llround), where Python's round() rounds half to even."""
    return math.floor(ts * 1000 + 0.5)


def hb_binary(name):
    """Path of a program built in HB_BUILD_DIR (hbd, hbc, hbc_mini)."""
    return os.path.join(BUILD_DIR, name)


# Waiting for a condition.
NOT_YET = (ConnectionError, urllib.error.URLError, OSError, sqlite3.Error)


def wait_until(probe, ok=bool, timeout=10, what="condition", interval=0.02, alive=None):
    """Polls probe() until ok(value) holds and returns that value. A probe raising one of NOT_YET
    (server not answering, database busy) counts as not yet. After `timeout` seconds raises
    TimeoutError naming `what` and the last value (or error) seen. `alive`, when given, runs each
    round and may raise (e.g. the server under test exited)."""
    deadline = time.time() + timeout
    last = None
    while True:
        try:
            value = probe()
            last = value
            if ok(value):
                return value
        except NOT_YET as e:
            last = f"{type(e).__name__}: {e}"
        if time.time() >= deadline:
            text = repr(last)
            if len(text) > 2000:
                text = text[:2000] + "..."
            raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last seen: {text})")
        if alive is not None:
            alive()
        time.sleep(interval)


def read_json_lines(path):
    """The complete JSON lines of a file another process appends to (a line still being written
    is left out); [] while the file does not exist."""
    try:
        with open(path, errors="replace") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in data.split("\n")[:-1] if line]


# Free ports.
_given = set()


def free_port(kind="udp", family=socket.AF_INET):
    """A port free for `kind` ("udp", "tcp" or "both") on loopback, not handed out before by this process."""
    for _ in range(200):
        s = socket.socket(family, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1" if family == socket.AF_INET else "::1", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port in _given:
            continue
        if kind == "both" or kind == "udp":
            # also check TCP (hbd_port/ws_port) or UDP as the other kind
            other = socket.socket(family, socket.SOCK_STREAM if kind != "tcp" else socket.SOCK_DGRAM)
            try:
                other.bind(("127.0.0.1" if family == socket.AF_INET else "::1", port))
            except OSError:
                continue
            finally:
                other.close()
        _given.add(port)
        return port
    raise RuntimeError("no free port found")


def free_ports(n, kind="both"):
    return [free_port(kind) for _ in range(n)]


def has_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


# The wire format.
MAGIC = b"HBA1"


def encode(obj, key_id=None, key=None, compress=False):
    """One datagram: JSON (zlib-compressed when `compress`), in an HBA1 envelope when `key` is given.
    With a key, `ts` is added when missing (authenticated bodies must carry it)."""
    if key is not None and isinstance(obj, dict) and "ts" not in obj:
        obj = dict(obj, ts=time.time())
    body = obj if isinstance(obj, (bytes, bytearray)) else json.dumps(obj, separators=(",", ":")).encode()
    if compress:
        body = zlib.compress(body)
    if key is None:
        return bytes(body)
    kid = (key_id or obj.get("name")).encode()
    kb = key.encode() if isinstance(key, str) else key
    mac = hmac.new(kb, body, hashlib.sha256).digest()
    return MAGIC + bytes([len(kid)]) + kid + mac + bytes(body)


class BadDatagram(Exception):
    pass


def decode(datagram, key=None):
    """Parses a datagram from hbd. With an envelope, checks the mac when `key` is given.
    Returns the JSON object; adds "_authenticated": True/False and "_key_id"."""
    auth = False
    kid = None
    if datagram[:4] == MAGIC:
        n = datagram[4]
        kid = datagram[5:5 + n].decode()
        mac = datagram[5 + n:5 + n + 32]
        body = datagram[5 + n + 32:]
        if key is not None:
            kb = key.encode() if isinstance(key, str) else key
            if not hmac.compare_digest(hmac.new(kb, body, hashlib.sha256).digest(), mac):
                raise BadDatagram("bad mac")
        auth = True
    else:
        body = datagram
    if body[:1] == b"\x78":
        body = zlib.decompress(body)
    obj = json.loads(body.decode())
    obj["_authenticated"] = auth
    obj["_key_id"] = kid
    return obj


# A UDP client.
class Client:
    """One simulated host talking to hbd over UDP from its own socket."""

    def __init__(self, name, port, host="127.0.0.1", key=None, timeout=2.0, family=None):
        self.name = name
        self.key = key
        self.server = (host, port)
        fam = family or (socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind(("::1" if fam == socket.AF_INET6 else "127.0.0.1", 0))
        self.timeout = timeout
        self.seq = 0
        self.inbox = []  # CMD/UPD/ERR received (decoded), in arrival order
        self.received = []  # every datagram received (decoded), in arrival order

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendto(data, self.server)

    def send_json(self, obj, compress=False, key=None, key_id=None):
        k = self.key if key is None else key
        self.send_raw(encode(obj, key_id=key_id or self.name, key=k, compress=compress))

    def htb(self, interval=30, seq=None, ts=True, rtt=None, agent="hbtest/1.0", owner=None, boot_time=None,
            compress=False, **extra):
        """Sends one HTB; returns its seq (auto-incremented unless given)."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        else:
            self.seq = seq
        m = {"ID": "HTB", "name": self.name, "ver": 1, "seq": seq, "interval": interval}
        if ts:
            m["ts"] = time.time() if ts is True else ts
        if rtt is not None:
            m["rtt"] = rtt
        if agent:
            m["agent"] = agent
        if owner:
            m["owner"] = owner
        if boot_time is not None:
            m["boot_time"] = boot_time
        m.update(extra)
        self.send_json(m, compress=compress)
        return seq

    def heartbeat(self, timeout=None, **kw):
        """Sends an HTB and waits for its ACK (CMD/UPD that follow go to .inbox). Returns the ACK."""
        seq = self.htb(**kw)
        deadline = time.time() + (timeout or self.timeout)
        while time.time() < deadline:
            m = self.recv(deadline - time.time())
            if m is None:
                break
            if m.get("ID") == "ACK" and m.get("seq") == seq:
                # Collect replies sent right behind the ACK (recv() files CMD/UPD into .inbox). hbd
                # sends CMD/UPD only behind the ACK of an authenticated HTB (docs/OPERATIONS.md);
                # behind any other ACK take only what is already here.
                self.recv_all(0.05 if m.get("_authenticated") else 0)
                return m
        raise TimeoutError(f"no ACK for seq {seq} from hbd")

    def replies_so_far(self, marker):
        """Every datagram hbd has sent this client for what it sent so far. hbd answers datagrams in
        the order they arrive (each batch's replies in one sendmmsg), so once `marker` (another
        Client of the same hbd, same address family) has the ACK of a heartbeat sent now, anything
        hbd had for this client is in its socket buffer: a wait for an answer that must not come."""
        marker.heartbeat()
        return self.recv_all(0)

    def plg(self, plugin, data, kind="monitor", ts=True, compress=False, **extra):
        m = {"ID": "PLG", "name": self.name, "plugin": plugin, "kind": kind, "data": data}
        if ts:
            m["ts"] = time.time() if ts is True else ts
        m.update(extra)
        self.send_json(m, compress=compress)

    def msg(self, text, event="message", ts=True):
        m = {"ID": "MSG", "name": self.name, "msg": text, "event": event}
        if ts:
            m["ts"] = time.time()
        self.send_json(m)

    def res(self, cmd_id, rc, output=""):
        self.send_json({"ID": "RES", "name": self.name, "cmd_id": cmd_id, "rc": rc, "output": output,
                        "ts": time.time()})

    def recv(self, timeout=None):
        """The next datagram from hbd, decoded (mac checked when the client has a key), or None."""
        self.sock.settimeout(max(0.001, self.timeout if timeout is None else timeout))
        try:
            data, _ = self.sock.recvfrom(65536)
        except (socket.timeout, BlockingIOError):
            return None
        m = decode(data, key=self.key)
        self.received.append(m)
        if m.get("ID") in ("CMD", "UPD", "ERR"):
            self.inbox.append(m)
        return m

    def recv_all(self, timeout=0.2):
        out = []
        while True:
            m = self.recv(timeout)
            if m is None:
                return out
            out.append(m)


# The hbd process.
class HttpError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:300]!r}")
        self.status = status
        self.body = body


def request_body(body, headers=None, token=None):
    """(data bytes or None, headers dict) of a request: dicts and lists as JSON, with a bearer token."""
    h = dict(headers or {})
    data = None
    if body is not None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        else:
            data = body if isinstance(body, bytes) else str(body).encode()
    if token:
        h["Authorization"] = f"Bearer {token}"
    return data, h


class Hbd:
    """A real hbd on free loopback ports, in its own temporary directory."""

    def __init__(self, config=None, tmpdir=None, verbose=True, binary=None, extra_args=(), env=None):
        self._own_dir = tmpdir is None
        self.dir = tmpdir or tempfile.mkdtemp(prefix="hbtest-")
        self.hb_port, self.hbd_port, self.ws_port = free_ports(3)
        base = {
            "hb_port": self.hb_port,
            "hbd_host": "127.0.0.1",
            "hbd_port": self.hbd_port,
            "ws_port": self.ws_port,
            "journal_dir": os.path.join(self.dir, "journal"),
            "state_db": os.path.join(self.dir, "hbd.sqlite"),
        }
        base.update(config or {})
        self.config = base
        self.hb_port = base["hb_port"]
        self.hbd_port = base["hbd_port"]
        self.ws_port = base["ws_port"]
        self.config_path = os.path.join(self.dir, "hb.yaml")
        self.log_path = os.path.join(self.dir, "hbd.log")
        self.verbose = verbose
        self.binary = binary or hb_binary("hbd")
        self.extra_args = list(extra_args)
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault("XDG_STATE_HOME", self.dir)
        self.env.setdefault("HOME", self.dir)
        self.proc = None
        self._log_file = None
        self.write_config(base)

    # -- lifecycle
    def write_config(self, config):
        """Writes `config` (a dict) as the YAML config file (the ports stay unless given)."""
        self.config = config
        with open(self.config_path, "w") as f:
            yaml.safe_dump(config, f, sort_keys=False)

    def start(self, timeout=15):
        args = [self.binary, "-c", self.config_path, "-f"] + (["-v"] if self.verbose else []) + self.extra_args
        self._log_file = open(self.log_path, "ab")
        self._log_offset = os.path.getsize(self.log_path)
        self.proc = subprocess.Popen(args, stdout=self._log_file, stderr=subprocess.STDOUT, env=self.env,
                                     cwd=self.dir)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "hbd: ready" in self.log()[self._log_offset:]:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"hbd exited with {self.proc.returncode} during start-up:\n{self.log()[-3000:]}")
            time.sleep(0.02)
        self.stop()
        raise TimeoutError(f"hbd not ready after {timeout}s:\n{self.log()[-3000:]}")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status (None if never started)."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
        if self._log_file:
            self._log_file.close()
            self._log_file = None
        return rc

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def sighup(self):
        self.proc.send_signal(signal.SIGHUP)

    def restart(self, timeout=15):
        self.stop()
        return self.start(timeout)

    def cleanup(self):
        self.stop()
        if self._own_dir and not os.environ.get("HB_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()

    # -- log
    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, text, timeout=10):
        """Waits until `text` appears in the log (since this start)."""
        return self.wait_for(lambda: text in self.log()[self._log_offset:], timeout, f"log line {text!r}")

    # -- HTTP
    def url(self, path):
        return f"http://127.0.0.1:{self.hbd_port}{path}"

    def http(self, method, path, body=None, headers=None, token=None, timeout=10):
        """Returns (status, headers dict, body bytes); never raises on HTTP errors."""
        data, h = request_body(body, headers, token)
        req = urllib.request.Request(self.url(path), data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get_json(self, path, token=None):
        status, _, body = self.http("GET", path, token=token)
        if status >= 400:
            raise HttpError(status, body)
        return json.loads(body)

    def post_json(self, path, obj, token=None, method="POST"):
        status, _, body = self.http(method, path, body=obj, token=token)
        if status >= 400:
            raise HttpError(status, body)
        return json.loads(body) if body else None

    def hosts(self, token=None):
        return self.get_json("/api/0/hosts", token=token)

    def host(self, name, token=None):
        for h in self.hosts(token=token):
            if h["name"] == name:
                return h
        return None

    def messages(self, token=None):
        return self.get_json("/api/0/messages", token=token)

    def metric(self, name, token=None, **labels):
        """The value of one sample of GET /metrics (labels in any order), or None when absent."""
        status, _, body = self.http("GET", "/metrics", token=token)
        if status >= 400:
            raise HttpError(status, body)
        want = {k: str(v) for k, v in labels.items()}
        for line in body.decode().splitlines():
            if line.startswith("#") or not line.startswith(name):
                continue
            key, _, value = line.rpartition(" ")
            metric_name, _, rest = key.partition("{")
            if metric_name != name:
                continue
            got = dict(p.split("=", 1) for p in rest.rstrip("}").split(",") if p) if rest else {}
            if {k: v.strip('"') for k, v in got.items()} == want:
                return float(value)
        return None

    def state_db(self, sql, *params):
        """Rows of `sql` over what the store has committed, read through a read-only connection of
        our own (as after a kill -9, only committed transactions are visible)."""
        db = sqlite3.connect(f"file:{self.config['state_db']}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    # -- waiting
    def _check_alive(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"hbd exited with {self.proc.returncode}:\n{self.log()[-3000:]}")

    def wait_for(self, pred, timeout=10, what="condition", interval=0.02, ok=None):
        """Polls `pred` until it returns a truthy value, or with `ok` until ok(value) holds; returns
        the value. Raises TimeoutError (naming `what` and the last value seen) or RuntimeError when
        hbd exits meanwhile."""
        return wait_until(pred, ok or bool, timeout, what, interval, alive=self._check_alive)

    def wait_host_state(self, name, state, timeout=10):
        """Waits until /api/0/hosts shows host `name` in `state`; returns the entry."""
        return self.wait_for(lambda: self.host(name), timeout, f"{name} {state}",
                             ok=lambda h: h is not None and h["state"] == state)
