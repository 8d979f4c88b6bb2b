"""The HTTP API against requests a hostile web page or network can make, on the real hbd:
cross-site writes (no Content-Type, foreign Origin) and DNS rebinding (a foreign Host) are
refused in open mode too and change nothing; bodies over http_max_body get 413; connections
past http_max_connections_per_ip are closed at once while another address is still served, and
those past http_max_connections until one ends;
headers that trickle in are cut off; X-Forwarded-* count only from trusted_proxies; a burst
of login guesses is limited as it arrives, and an unknown user costs what a wrong password does."""

import http.client
import json
import socket
import threading
import time

from api_helpers import PASSWORD, header, pbkdf2_hash, request, users_config
from hbtest import Hbd, wait_until


def raw(port, method, path, body=None, headers=None, source="127.0.0.1"):
    """(status, json or None) for a request with exactly these headers (no Content-Type added)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        h = {"Host": f"127.0.0.1:{port}"}
        h.update(headers or {})
        for k, v in h.items():
            if v is not None:
                conn.putheader(k, v)
        data = body.encode() if isinstance(body, str) else body
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        r = conn.getresponse()
        text = r.read()
        parsed = json.loads(text) if text and (r.getheader("Content-Type") or "").startswith("application/json") else None
        return r.status, parsed
    finally:
        conn.close()


def users(port):
    st, body = raw(port, "GET", "/api/0/users")
    assert st == 200, st
    return body


NEW_ADMIN = json.dumps({"username": "mallory", "password": "mallory-pw-1", "admin": True})


def test_cross_site_writes_are_refused_in_open_mode():
    with Hbd({"hosts": {"web01": {}}}) as hbd:
        p = hbd.hbd_port
        # A page's no-cors fetch: a typeless body and the page's Origin.
        st, body = raw(p, "POST", "/api/0/users", NEW_ADMIN, {"Origin": "http://evil.example"})
        assert st in (403, 415) and "error" in body
        # Without Origin but without a JSON type (a form post or a Blob): 415.
        st, body = raw(p, "POST", "/api/0/users", NEW_ADMIN)
        assert st == 415 and body == {"error": "Content-Type must be application/json"}
        st, _ = raw(p, "POST", "/api/0/users", NEW_ADMIN, {"Content-Type": "text/plain"})
        assert st == 415
        # JSON from a foreign Origin: 403, on every write method.
        st, body = raw(p, "POST", "/api/0/users", NEW_ADMIN,
                       {"Content-Type": "application/json", "Origin": "http://evil.example"})
        assert st == 403 and body == {"error": "cross-origin request not allowed"}
        for method, path in (("DELETE", "/api/0/hosts/web01"), ("PUT", "/api/0/hosts/web01/access"),
                             ("POST", "/api/0/hosts/web01/dns")):
            st, _ = raw(p, method, path, "{}", {"Content-Type": "application/json", "Origin": "null"})
            assert st == 403, (method, path, st)
        assert users(p) == []
        assert [h["name"] for h in hbd.hosts()] == ["web01"]
        assert raw(p, "GET", "/api/0/me")[1]["auth_enabled"] is False  # still open: nobody took over
        # What curl or a script does (JSON, no Origin) and the UI does (its own Origin) still works.
        st, _ = raw(p, "POST", "/api/0/users", NEW_ADMIN.replace("mallory", "alice"),
                    {"Content-Type": "application/json; charset=utf-8", "Origin": f"http://127.0.0.1:{p}"})
        assert st == 201
        assert [u["username"] for u in users_after_login(p, "alice", "alice-pw-1")] == ["alice"]


def test_a_page_on_another_port_of_the_same_host_is_another_site():
    with Hbd({"hosts": {"web01": {}}}) as hbd:
        p = hbd.hbd_port
        json_type = {"Content-Type": "application/json"}
        for origin in ("http://127.0.0.1:8080", "http://127.0.0.1", f"http://127.0.0.1:{hbd.ws_port}"):
            st, body = raw(p, "POST", "/api/0/users", NEW_ADMIN, {**json_type, "Origin": origin})
            assert st == 403 and body == {"error": "cross-origin request not allowed"}, (origin, st, body)
            st, _ = raw(p, "DELETE", "/api/0/hosts/web01", None, {"Origin": origin})
            assert st == 403, (origin, st)
        assert users(p) == []
        assert [h["name"] for h in hbd.hosts()] == ["web01"]
        # The web UI's own origin (the port the request goes to) still writes.
        st, _ = raw(p, "POST", "/api/0/users", NEW_ADMIN.replace("mallory", "alice"),
                    {**json_type, "Origin": f"http://127.0.0.1:{p}"})
        assert st == 201
        assert [u["username"] for u in users_after_login(p, "alice", "alice-pw-1")] == ["alice"]


def users_after_login(port, user, password):
    st, _, _, body = request(port, "POST", "/api/0/auth/login", {"username": user, "password": password})
    assert st == 200
    st, _, _, listed = request(port, "GET", "/api/0/users", token=body["token"])
    assert st == 200
    return listed


def test_dns_rebinding_gets_421_and_known_names_pass():
    with Hbd({"http_hosts": ["hb.example.org"], "hosts": {"web01": {}}}) as hbd:
        p = hbd.hbd_port
        for host in ("evil.example", "evil.example:%d" % p, "hb.example.org.evil", ""):
            for method, body in (("GET", None), ("POST", NEW_ADMIN)):
                st, got = raw(p, method, "/api/0/users", body, {"Host": host, "Content-Type": "application/json"})
                assert st == 421 and "error" in got, (host, method, st, got)
        st, _ = raw(p, "GET", "/healthz", headers={"Host": "rebound.example"})
        assert st == 421
        assert users(p) == []
        for host in ("localhost", f"localhost:{p}", f"127.0.0.1:{p}", "127.0.0.1", "[::1]:%d" % p,
                     "hb.example.org", f"HB.Example.org:{p}", socket.gethostname()):
            st, _ = raw(p, "GET", "/api/0/hosts", headers={"Host": host})
            assert st == 200, host


def test_bodies_over_http_max_body_get_413():
    with Hbd({"http_max_body": 4096}) as hbd:
        p = hbd.hbd_port
        big = json.dumps({"username": "bob", "password": "x" * 5000})
        st, body = raw(p, "POST", "/api/0/users", big, {"Content-Type": "application/json"})
        assert st == 413 and "http_max_body" in body["error"]
        assert users(p) == []


def test_json_bodies_up_to_http_max_body_are_read():
    with Hbd({}) as hbd:
        p = hbd.hbd_port
        # 200 KiB of JSON: over the old fixed 64 KiB, well under the default http_max_body (1 MiB).
        big = json.dumps({"username": "bob", "password": "bob-pw-1", "admin": True, "pad": "x" * 200000})
        st, body = raw(p, "POST", "/api/0/users", big, {"Content-Type": "application/json"})
        assert st == 201, (st, body)
        assert [u["username"] for u in users_after_login(p, "bob", "bob-pw-1")] == ["bob"]


def open_idle(port, n, source="127.0.0.1"):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
        socks.append(s)
    return socks


def closed_by_peer(s, timeout=3):
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def metric_lines(port, source):
    """The unlabelled samples of /metrics, fetched from `source`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and "{" not in line:
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def test_idle_connections_from_one_address_cannot_starve_another():
    with Hbd({}) as hbd:
        p = hbd.hbd_port
        socks = open_idle(p, 200)
        try:
            # The first 64 (http_max_connections_per_ip) stay open, the others are closed at once.
            assert closed_by_peer(socks[-1])
            assert not closed_by_peer(socks[0], timeout=0.2)
            started = time.time()
            st, body = raw(p, "GET", "/healthz", source="127.0.0.2")
            assert st == 200 and body == {"status": "ok"}
            assert time.time() - started < 1.0
            metrics = metric_lines(p, "127.0.0.2")
            assert metrics["heartbeat_http_connections_refused_total"] >= 136
            assert metrics["heartbeat_http_connections"] >= 64
        finally:
            for s in socks:
                s.close()


def test_connections_past_the_global_limit_are_closed_until_one_ends():
    with Hbd({"http_max_connections": 10}) as hbd:
        p = hbd.hbd_port
        # Spread over addresses, so that only the global limit applies.
        socks = [s for i in range(3) for s in open_idle(p, 4, source=f"127.0.0.{i + 2}")]
        try:
            assert closed_by_peer(socks[-1])
            assert not closed_by_peer(socks[0], timeout=0.2)
            socks.pop().close()
            socks.pop().close()
            socks.pop().close()
            socks[0].close()  # below the limit again: a new connection is served
            wait_until(lambda: raw(p, "GET", "/healthz", source="127.0.0.9")[0], ok=lambda st: st == 200,
                       timeout=5, what="/healthz served once a connection ended")
        finally:
            for s in socks:
                s.close()


def test_a_request_that_trickles_in_is_cut_off():
    with Hbd({"http_header_timeout": 2, "http_max_connections_per_ip": 8}) as hbd:
        s = socket.create_connection(("127.0.0.1", hbd.hbd_port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        started = time.time()
        assert closed_by_peer(s, timeout=8), "the slow request was not closed"
        assert 1.0 <= time.time() - started <= 6
        s.close()
        assert raw(hbd.hbd_port, "GET", "/healthz")[0] == 200


def test_forwarded_headers_count_only_from_trusted_proxies():
    cfg = {"users": users_config(alice=True)}
    with Hbd(cfg) as hbd:
        st, headers, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/login",
                                    {"username": "alice", "password": PASSWORD},
                                    headers={"X-Forwarded-Proto": "https"})
        assert st == 200 and not any("Secure" in c for c in header(headers, "Set-Cookie"))
        # A spoofed X-Forwarded-For does not dodge the per-address limit.
        for i in range(20):
            request(hbd.hbd_port, "POST", "/api/0/auth/login", {"username": f"u{i}", "password": "bad"},
                    headers={"X-Forwarded-For": f"10.0.0.{i}"})
        st, _, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/login",
                              {"username": "alice", "password": PASSWORD}, headers={"X-Forwarded-For": "10.9.9.9"})
        assert st == 429
    cfg["trusted_proxies"] = ["127.0.0.0/8"]
    with Hbd(cfg) as hbd:
        st, headers, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/login",
                                    {"username": "alice", "password": PASSWORD},
                                    headers={"X-Forwarded-Proto": "https"})
        assert st == 200 and all("Secure" in c for c in header(headers, "Set-Cookie"))
        # Behind a trusted proxy the client's own address is limited, not the proxy's.
        for i in range(21):
            request(hbd.hbd_port, "POST", "/api/0/auth/login", {"username": f"u{i}", "password": "bad"},
                    headers={"X-Forwarded-For": "10.0.0.1"})
        st, _, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/login",
                              {"username": "alice", "password": PASSWORD}, headers={"X-Forwarded-For": "10.0.0.1"})
        assert st == 429
        st, _, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/login",
                              {"username": "alice", "password": PASSWORD}, headers={"X-Forwarded-For": "10.0.0.2"})
        assert st == 200
        assert "from 10.0.0.1" in hbd.log()


def test_a_burst_of_guesses_is_limited_on_arrival_and_unknown_users_cost_the_same():
    # A realistic password cost, so that timing would tell if it differed.
    cfg = {"users": {"alice": {"password": pbkdf2_hash("right-password", iterations=200000), "admin": True}}}
    with Hbd(cfg) as hbd:
        results = []

        def guess(i):
            st, _, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/login",
                                  {"username": "alice", "password": f"guess{i}"})
            results.append(st)

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Counted when they arrive: 5 checked (401), the other 15 refused at once (429).
        assert sorted(results) == [401] * 5 + [429] * 15, results

    with Hbd(cfg) as hbd:
        def timed(user, password):
            started = time.perf_counter()
            st, _, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/login", {"username": user, "password": password})
            assert st == 401
            return time.perf_counter() - started

        wrong_password, wrong_user = [], []
        for i in range(4):  # interleaved, so that load on the machine falls on both alike
            wrong_password.append(timed("alice", f"nope{i}"))
            wrong_user.append(timed(f"nobody{i}", "nope"))
        # The fastest of each: scheduling noise on a busy machine only ever adds time.
        fast_pw, fast_user = min(wrong_password), min(wrong_user)
        assert 0.5 < fast_user / fast_pw < 2, (wrong_user, wrong_password)
