"""Every API endpoint against a real hbd, for each caller: anonymous, a user with no role, monitor,
manager, owner and admin. 401 without a session, 404 for hosts the caller may not see, 403 without
the role, 200 with it; the shapes of docs/API.md; /metrics passes `promtool check metrics`."""

import json
import shutil
import subprocess
import time

import pytest

from api_helpers import PASSWORD, login, pbkdf2_hash, request, users_config
from hbtest import Client, Hbd

KEY = "k" * 32


@pytest.fixture(scope="module")
def env():
    users = users_config(alice=True, olivia=False, mark=False, mona=False, carl=False)
    cfg = {
        "users": users,
        "hosts": {
            "web1": {"owner": "olivia", "managers": ["mark"], "monitors": ["mona"], "key": KEY},
            "db1": {"owner": "alice"},
        },
    }
    with Hbd(cfg) as hbd:
        with Client("web1", hbd.hb_port, key=KEY) as c:
            c.heartbeat(rtt=1.5)
            c.plg("cpu_monitor", {"cpu_percent": 12.5, "load": {"1min": 0.5}})
            # label values that need escaping in the Prometheus text format
            c.plg("custom", {'we"ird\\key\nx': 3, "ok": True})
            t0 = time.time() - 3
            for i in range(3):
                c.plg("mem", {"percent": 40 + i}, ts=t0 + i)  # distinct times: a defined order
            c.msg("hello from web1")
            hbd.wait_for(lambda: _plugins_ready(hbd), 10, "plugin data")
        tokens = {name: login(hbd.hbd_port, name)[0] for name in users}
        tokens["anon"] = None
        yield hbd, tokens


def _plugins_ready(hbd):
    tok = login(hbd.hbd_port, "alice")[0]
    st, _, _, body = request(hbd.hbd_port, "GET", "/api/0/hosts/web1/plugins", token=tok)
    return st == 200 and {"cpu_monitor", "custom", "mem"} <= set(body["plugins"])


def call(hbd, tokens, who, method, path, body=None):
    st, _, raw, parsed = request(hbd.hbd_port, method, path, body=body, token=tokens[who])
    return st, parsed if parsed is not None else raw


ROLES = ["anon", "carl", "mona", "mark", "olivia", "alice"]

# (method, path, body, expected status per role in ROLES order)
MATRIX = [
    ("GET", "/api/0/hosts", None, [401, 200, 200, 200, 200, 200]),
    ("GET", "/api/0/messages", None, [401, 200, 200, 200, 200, 200]),
    ("GET", "/api/0/alerts", None, [401, 200, 200, 200, 200, 200]),
    ("GET", "/api/0/me", None, [401, 200, 200, 200, 200, 200]),
    ("GET", "/api/0/hosts/web1", None, [401, 404, 200, 200, 200, 200]),
    ("GET", "/api/0/hosts/web1/plugins", None, [401, 404, 200, 200, 200, 200]),
    ("GET", "/api/0/hosts/web1/plugins/mem?limit=2", None, [401, 404, 200, 200, 200, 200]),
    ("GET", "/api/0/hosts/web1/alerts", None, [401, 404, 200, 200, 200, 200]),
    ("GET", "/api/0/hosts/web1/access", None, [401, 404, 403, 403, 200, 200]),
    ("PUT", "/api/0/hosts/web1/access", {"managers": ["mark"]}, [401, 404, 403, 403, 200, 200]),
    ("POST", "/api/0/hosts/web1/commands", {"command": "uptime", "args": []}, [401, 404, 403, 200, 200, 200]),
    ("POST", "/api/0/hosts/web1/upgrade", {"version": "1.2.3"}, [401, 404, 403, 200, 200, 200]),
    ("POST", "/api/0/hosts/web1/dns", {}, [401, 404, 403, 200, 200, 200]),
    ("DELETE", "/api/0/hosts/web1", None, [401, 404, 403, 403, None, None]),  # owner/admin: dropped below
    ("GET", "/api/0/hosts/db1", None, [401, 404, 404, 404, 404, 200]),
    ("GET", "/api/0/users", None, [401, 403, 403, 403, 403, 200]),
    ("GET", "/api/0/users/mona", None, [401, 403, 403, 403, 403, 200]),
    ("PUT", "/api/0/users/mona", {"full_name": "Mona M"}, [401, 403, 403, 403, 403, 200]),
    ("GET", "/api/0/settings", None, [401, 200, 200, 200, 200, 200]),
    ("GET", "/api/0/config", None, [401, 403, 403, 403, 403, 200]),
    ("GET", "/api/0/maintenance", None, [401, 200, 200, 200, 200, 200]),
    ("GET", "/api/0/hosts/web1/plugins/mem?since=0&until=9999999999", None, [401, 404, 200, 200, 200, 200]),
    ("GET", "/metrics", None, [401, 200, 200, 200, 200, 200]),
    ("GET", "/healthz", None, [200, 200, 200, 200, 200, 200]),
]


@pytest.mark.parametrize("method,path,body,expected", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_matrix(env, method, path, body, expected):
    hbd, tokens = env
    for who, want in zip(ROLES, expected):
        if want is None:
            continue
        st, got = call(hbd, tokens, who, method, path, body)
        assert st == want, f"{who}: {method} {path} -> {st} {got!r}"
        if st >= 400:
            assert isinstance(got, dict) and "error" in got, got


def test_lists_are_role_filtered(env):
    hbd, tokens = env
    names = lambda who: [h["name"] for h in call(hbd, tokens, who, "GET", "/api/0/hosts")[1]]
    assert names("carl") == []
    assert names("mona") == ["web1"]
    assert names("olivia") == ["web1"]
    assert names("alice") == ["db1", "web1"]
    assert call(hbd, tokens, "carl", "GET", "/api/0/alerts")[1]["host_count"] == 0
    assert call(hbd, tokens, "alice", "GET", "/api/0/alerts")[1]["host_count"] == 2
    msgs = call(hbd, tokens, "carl", "GET", "/api/0/messages")[1]
    assert all(m.get("host") != "web1" for m in msgs)
    assert any(m.get("msg") == "hello from web1" for m in call(hbd, tokens, "mona", "GET", "/api/0/messages")[1])


def test_shapes_of_seed_002(env):
    hbd, tokens = env
    hosts = call(hbd, tokens, "mona", "GET", "/api/0/hosts")[1]
    h = hosts[0]
    for k in ("name", "dyn", "ver", "connections", "state", "last_seen"):
        assert k in h
    conn = h["connections"][0]
    for k in ("family", "address", "state", "last_seen", "rtt", "seq", "lost"):
        assert k in conn
    assert conn["rtt"] == 1.5
    plugins = call(hbd, tokens, "mona", "GET", "/api/0/hosts/web1/plugins")[1]
    assert plugins["hostname"] == "web1"
    cpu = plugins["plugins"]["cpu_monitor"]
    assert cpu["data"] == {"cpu_percent": 12.5, "load": {"1min": 0.5}}
    assert {"timestamp", "data", "sample_count"} <= set(cpu)
    hist = call(hbd, tokens, "mona", "GET", "/api/0/hosts/web1/plugins/mem?limit=2")[1]
    assert hist["hostname"] == "web1" and hist["plugin"] == "mem"
    assert hist["sample_count"] == 2 and [s["data"]["percent"] for s in hist["samples"]] == [42, 41]
    default = call(hbd, tokens, "mona", "GET", "/api/0/hosts/web1/plugins/mem")[1]
    assert default["sample_count"] == 3  # default limit 10, three stored
    alerts = call(hbd, tokens, "mona", "GET", "/api/0/hosts/web1/alerts")[1]
    assert alerts["hostname"] == "web1" and "alerts" in alerts and "summary" in alerts
    allal = call(hbd, tokens, "mona", "GET", "/api/0/alerts")[1]
    assert {"alerts", "summary", "host_count"} <= set(allal)
    me = call(hbd, tokens, "mona", "GET", "/api/0/me")[1]
    assert me["username"] == "mona" and me["admin"] is False and me["csrf_token"]
    assert "password" not in json.dumps(call(hbd, tokens, "alice", "GET", "/api/0/users")[1])


def test_hosts_gzip(env):
    import gzip
    hbd, tokens = env
    plain = call(hbd, tokens, "alice", "GET", "/api/0/hosts")[1]
    st, headers, raw, _ = request(hbd.hbd_port, "GET", "/api/0/hosts", token=tokens["alice"],
                                  headers={"Accept-Encoding": "gzip, deflate"})
    assert st == 200
    enc = [v for k, v in headers if k.lower() == "content-encoding"]
    if enc:  # only lists over ~1.4 KB are compressed
        assert enc == ["gzip"]
        raw = gzip.decompress(raw)
    assert [h["name"] for h in json.loads(raw)] == [h["name"] for h in plain]


def test_bad_input(env):
    hbd, tokens = env
    for q in ("limit=0", "limit=-1", "limit=abc", "limit=1.5"):
        st, got = call(hbd, tokens, "mona", "GET", f"/api/0/hosts/web1/plugins/mem?{q}")
        assert st == 400 and "error" in got, (q, st, got)
    st, got = call(hbd, tokens, "mona", "GET", "/api/0/hosts/web1/plugins/nope")
    assert st == 404 and "nope" in got["error"]
    st, got = call(hbd, tokens, "alice", "GET", "/api/0/hosts/ghost")
    assert st == 404 and got == {"error": "Host 'ghost' not found"}
    st, _, raw, got = request(hbd.hbd_port, "POST", "/api/0/hosts/web1/commands", body=b"{not json",
                              headers={"Content-Type": "application/json"}, token=tokens["mark"])
    assert st == 400 and "JSON" in got["error"]
    st, got = call(hbd, tokens, "mark", "POST", "/api/0/hosts/web1/commands", {"command": 5})
    assert st == 400
    st, got = call(hbd, tokens, "mark", "POST", "/api/0/hosts/web1/commands", {"command": "x", "args": [1]})
    assert st == 400
    st, _, _, got = request(hbd.hbd_port, "POST", "/api/0/hosts/web1/commands",
                            body={"command": "uptime", "pad": "x" * 1100000}, token=tokens["mark"])  # over http_max_body
    assert st == 413
    st, got = call(hbd, tokens, "olivia", "PUT", "/api/0/hosts/web1/access", {"managers": ["nobody"]})
    assert st == 400 and "nobody" in got["error"]
    st, got = call(hbd, tokens, "olivia", "PUT", "/api/0/hosts/web1/access", {"monitors": "mona"})
    assert st == 400
    # nothing changed by the refused writes
    acc = call(hbd, tokens, "olivia", "GET", "/api/0/hosts/web1/access")[1]
    assert acc["managers"] == ["mark"] and acc["monitors"] == ["mona"] and acc["owner"] == "olivia"
    st, got = call(hbd, tokens, "alice", "POST", "/api/0/users", {"username": "../x", "password": "longenough"})
    assert st == 400
    st, got = call(hbd, tokens, "alice", "POST", "/api/0/users", {"username": "mona", "password": "longenough"})
    assert st == 409
    assert hbd.running()


def test_commands_reach_the_host(env):
    hbd, tokens = env
    st, got = call(hbd, tokens, "mark", "POST", "/api/0/hosts/web1/commands", {"command": "uptime", "args": ["-p"]})
    assert st == 200 and got["id"] and got["status"] == "queued"
    with Client("web1", hbd.hb_port, key=KEY) as c:
        c.heartbeat()
        cmds = [m for m in c.inbox if m.get("ID") == "CMD"]
        assert any(m.get("command") == "uptime" for m in cmds), c.inbox


def test_access_change_takes_effect(env):
    hbd, tokens = env
    st, got = call(hbd, tokens, "olivia", "PUT", "/api/0/hosts/web1/access",
                   {"owner": "olivia", "managers": ["mark"], "monitors": ["mona", "carl"]})
    assert st == 200 and got["monitors"] == ["mona", "carl"]
    assert call(hbd, tokens, "carl", "GET", "/api/0/hosts/web1")[0] == 200
    st, got = call(hbd, tokens, "olivia", "PUT", "/api/0/hosts/web1/access", {"monitors": ["mona"]})
    assert st == 200
    assert call(hbd, tokens, "carl", "GET", "/api/0/hosts/web1")[0] == 404


def test_users_crud(env):
    hbd, tokens = env
    st, got = call(hbd, tokens, "alice", "POST", "/api/0/users",
                   {"username": "newbie", "password": "longenough1", "full_name": "New"})
    assert st == 201 and got["username"] == "newbie" and "password" not in got
    tok = login(hbd.hbd_port, "newbie", "longenough1")[0]
    st, _, _, me = request(hbd.hbd_port, "GET", "/api/0/me", token=tok)
    assert st == 200 and me["full_name"] == "New"
    st, got = call(hbd, tokens, "alice", "PUT", "/api/0/users/newbie", {"admin": True})
    assert st == 200 and got["admin"] is True
    st, got = call(hbd, tokens, "alice", "DELETE", "/api/0/users/newbie")
    assert st == 200
    # the deleted user's session is gone at once
    assert request(hbd.hbd_port, "GET", "/api/0/me", token=tok)[0] == 401
    assert call(hbd, tokens, "alice", "GET", "/api/0/users/newbie")[0] == 404
    assert call(hbd, tokens, "alice", "DELETE", "/api/0/users/alice")[0] == 409  # not yourself


def test_metrics_promtool(env, tmp_path):
    hbd, tokens = env
    st, _, raw, _ = request(hbd.hbd_port, "GET", "/metrics", token=tokens["alice"])
    assert st == 200
    text = raw.decode()
    assert 'heartbeat_host_up{host="web1"} 1' in text
    assert 'heartbeat_host_state{host="db1",state="UNKNOWN"} 1' in text
    assert 'heartbeat_connection_up{host="web1",family="ipv4"} 1' in text
    assert 'heartbeat_plugin_value{host="web1",plugin="cpu_monitor",metric="load.1min"} 0.5' in text
    assert 'metric="we\\"ird\\\\key\\nx"} 3' in text
    assert 'heartbeat_datagrams_total{result="accepted"}' in text
    assert 'heartbeat_datagrams_rejected_total{reason="bad_json"}' in text
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=raw, capture_output=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr
    # a monitor sees only its hosts' series
    mona = request(hbd.hbd_port, "GET", "/metrics", token=tokens["mona"])[2].decode()
    assert 'host="web1"' in mona and 'host="db1"' not in mona


def test_drop_host_last(env):
    hbd, tokens = env
    assert call(hbd, tokens, "olivia", "DELETE", "/api/0/hosts/web1")[0] == 200
    assert call(hbd, tokens, "alice", "GET", "/api/0/hosts/web1")[0] == 404
    assert call(hbd, tokens, "alice", "DELETE", "/api/0/hosts/db1")[0] == 200
    assert call(hbd, tokens, "alice", "GET", "/api/0/hosts")[1] == []
