"""What the web UI needs beyond the host and alert endpoints, against a real hbd: GET /api/0/config (admins only,
every secret "***"), GET /api/0/maintenance (the alert engine's windows, which are active, filtered
by role), ?since=&until= on plugin history, a `dropped` WebSocket event when a host is deleted, and
static files served with Cache-Control: no-cache."""

import time

import pytest

from api_helpers import WebSocket, header, login, request, users_config
from hbtest import Client, Hbd

KEY = "k" * 32


@pytest.fixture(scope="module")
def hbd():
    now = time.time()
    cfg = {
        "users": users_config(alice=True, mona=False, carl=False),
        "hosts": {"web1": {"owner": "alice", "monitors": ["mona"], "key": KEY}, "db1": {"owner": "alice"}},
        "notifiers": {
            "mail": {"type": "email", "smtp_host": "127.0.0.1", "from": "hb@example.com",
                     "username": "hb", "password": "smtp-pass-1"},
            "push": {"type": "pushover", "token": "push-token-1", "user": "push-user-1"},
            "mm": {"type": "mattermost", "url": "http://127.0.0.1:9/hooks/mm-secret-1"},
            "hook": {"type": "webhook", "url": "http://127.0.0.1:9/h", "secret": "hook-secret-1",
                     "headers": {"Authorization": "Bearer hdr-secret-1"}},
        },
        "maintenance": [
            {"name": "web-now", "hosts": ["web*"], "start": int(now - 600), "end": int(now + 3600)},
            {"name": "db-later", "hosts": ["db1"], "start": int(now + 7200), "end": int(now + 9000)},
            {"name": "everyone-weekly", "cron": "0 3 * * sun", "duration": "1h"},
        ],
    }
    with Hbd(cfg) as h:
        with Client("web1", h.hb_port, key=KEY) as c:
            c.heartbeat()
        with Client("db1", h.hb_port) as d:
            d.heartbeat()
        h.wait_for(lambda: len(h.get_json("/api/0/hosts", token=login(h.hbd_port, "alice")[0])) == 2, 5, "hosts")
        yield h


def get(hbd, user, path):
    tok = login(hbd.hbd_port, user)[0]
    st, headers, raw, body = request(hbd.hbd_port, "GET", path, token=tok)
    return st, body if body is not None else raw


def test_config_is_for_admins_and_masks_every_secret(hbd):
    assert get(hbd, "mona", "/api/0/config")[0] == 403
    assert request(hbd.hbd_port, "GET", "/api/0/config")[0] == 401
    st, cfg = get(hbd, "alice", "/api/0/config")
    assert st == 200
    text = repr(cfg)
    for secret in ("smtp-pass-1", "push-token-1", "push-user-1", "mm-secret-1", "hook-secret-1", "hdr-secret-1",
                   KEY, "pbkdf2:"):
        assert secret not in text, secret
    assert cfg["hosts"]["web1"]["key"] == "***"
    assert cfg["users"]["alice"]["password"] == "***"
    assert cfg["notifiers"]["mail"]["password"] == "***"
    assert cfg["notifiers"]["hook"]["headers"]["Authorization"] == "***"
    # Not secrets: shown as configured.
    assert cfg["notifiers"]["mail"]["smtp_host"] == "127.0.0.1"
    assert cfg["users"]["alice"]["admin"] is True
    assert cfg["hb_port"] == hbd.hb_port


def test_maintenance_windows_with_active_flag_filtered_by_role(hbd):
    st, m = get(hbd, "alice", "/api/0/maintenance")
    assert st == 200
    by_name = {w["name"]: w for w in m["windows"]}
    assert set(by_name) == {"web-now", "db-later", "everyone-weekly"}
    assert by_name["web-now"]["active"] is True and by_name["web-now"]["hosts"] == ["web*"]
    assert by_name["web-now"]["hosts_in_maintenance"] == ["web1"]
    assert by_name["db-later"]["active"] is False and by_name["db-later"]["start"] > time.time()
    weekly = by_name["everyone-weekly"]
    assert weekly["hosts"] == "*" and weekly["kind"] == "recurring" and weekly["cron"] == "0 3 * * sun"
    assert weekly["end"] - weekly["start"] == 3600
    # mona sees web1 only: not the window of db1.
    st, m = get(hbd, "mona", "/api/0/maintenance")
    assert {w["name"] for w in m["windows"]} == {"web-now", "everyone-weekly"}
    # carl holds no role: only windows for every host.
    st, m = get(hbd, "carl", "/api/0/maintenance")
    assert {w["name"] for w in m["windows"]} == {"everyone-weekly"}


def test_plugin_history_since_until(hbd):
    t0 = time.time() - 100
    with Client("web1", hbd.hb_port, key=KEY) as c:
        for i in range(6):
            c.plg("mem", {"percent": 40 + i}, ts=t0 + 10 * i)
        c.heartbeat()
    path = "/api/0/hosts/web1/plugins/mem"
    hbd.wait_for(lambda: get(hbd, "alice", path + "?limit=10")[1].get("sample_count") == 6, 5, "6 samples")
    st, got = get(hbd, "mona", f"{path}?limit=100&since={t0 + 15}&until={t0 + 40}")
    assert st == 200
    assert [s["data"]["percent"] for s in got["samples"]] == [44, 43, 42]
    st, got = get(hbd, "mona", f"{path}?since={t0 + 25.5}&limit=2")
    assert [s["data"]["percent"] for s in got["samples"]] == [45, 44]
    st, got = get(hbd, "mona", f"{path}?since={t0 + 1000}")
    assert st == 200 and got["samples"] == [] and got["sample_count"] == 0
    for bad in ("since=abc", "until=-5", "since=nan", f"since={t0 + 50}&until={t0}"):
        assert get(hbd, "mona", f"{path}?{bad}")[0] == 400, bad


def test_static_files_are_revalidated(hbd):
    st, headers, _, _ = request(hbd.hbd_port, "GET", "/static/js/api.js")
    assert st == 200
    assert header(headers, "Cache-Control") == ["no-cache"]


def test_dropped_host_reaches_the_websocket_of_those_who_saw_it(hbd):
    tok_mona = login(hbd.hbd_port, "mona")[0]
    tok_carl = login(hbd.hbd_port, "carl")[0]
    mona = WebSocket(hbd.ws_port, f"/hbd?token={tok_mona}")
    carl = WebSocket(hbd.ws_port, f"/hbd?token={tok_carl}")
    try:
        hbd.wait_for(lambda: hbd.metric("heartbeat_websocket_clients", token=tok_mona), 5, "both streams registered",
                     ok=lambda n: n is not None and n >= 2)
        tok = login(hbd.hbd_port, "alice")[0]
        assert request(hbd.hbd_port, "DELETE", "/api/0/hosts/web1", token=tok)[0] == 200
        got = mona.messages_until(lambda m: m["type"] == "dropped", timeout=5)
        dropped = [m for m in got if m["type"] == "dropped"]
        assert dropped[0]["data"] == {"name": "web1", "removed": True}
        assert all(m["type"] != "dropped" for m in carl.drain(0.5)), "carl held no role on web1"
    finally:
        mona.close()
        carl.close()


def test_hosts_list_pages_by_name_with_the_total_and_role_filter(hbd):
    alice = login(hbd.hbd_port, "alice")[0]
    mona = login(hbd.hbd_port, "mona")[0]
    for name in ("pg-c", "pg-a", "pg-b"):
        with Client(name, hbd.hb_port) as c:
            c.heartbeat()

    def names(token):
        return [h["name"] for h in hbd.get_json("/api/0/hosts", token=token)]

    def page(token, query):
        st, headers, raw, body = request(hbd.hbd_port, "GET", "/api/0/hosts" + query, token=token)
        total = header(headers, "X-Total-Count")
        return st, [h["name"] for h in body] if st == 200 else body, int(total[0]) if total else None

    full = names(alice)
    assert {"pg-a", "pg-b", "pg-c"} <= set(full) and full == sorted(full)
    n = len(full)
    assert page(alice, "?limit=2") == (200, full[:2], n)
    assert page(alice, "?limit=2&offset=2") == (200, full[2:4], n)
    assert page(alice, "?offset=1") == (200, full[1:], n)
    assert page(alice, f"?limit=5&offset={n + 3}") == (200, [], n)
    # A page counts only the hosts the caller may see (the pg-* hosts are not mona's).
    mine = names(mona)
    assert "pg-a" not in mine
    assert page(mona, "?limit=100") == (200, mine, len(mine))
    # Entries are the same as in the full list.
    i = full.index("pg-b")
    st, _, _, one = request(hbd.hbd_port, "GET", f"/api/0/hosts?limit=1&offset={i}", token=alice)
    assert one[0]["name"] == "pg-b" and one[0]["state"] == "UP"
    assert one[0]["connections"][0]["family"] == "ipv4"
    for bad in ("?limit=0", "?limit=abc", "?offset=-1", "?limit=1&offset=x"):
        st, body, _ = page(alice, bad)
        assert st == 400 and "error" in body, bad
