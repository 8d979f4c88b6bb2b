"""GET /api/0/hosts?q=&state=&role=&sort=&order= against a real hbd: the name filter (any case), the state
filter, every sort column both ways (checked against the whole list sorted the way the web UI's live view
sorted it), pages with X-Total-Count and X-State-Counts, the role floor for a user who monitors some hosts,
400 for unknown values, and the plain list untouched."""

import json
import math
import time

import pytest

from api_helpers import header, login, request, users_config
from hbtest import Client, Hbd

STATE_RANK = {"DOWN": 0, "LATE": 1, "UNKNOWN": 2, "STOPPED": 3, "UP": 4}
STATES = ["UP", "LATE", "DOWN", "STOPPED", "UNKNOWN"]


@pytest.fixture(scope="module")
def hbd():
    cfg = {
        "users": users_config(alice=True, mona=False),
        "hosts": {"q-own": {"owner": "mona"}, "q-mgr": {"owner": "alice", "managers": ["mona"]},
                  "q-mon": {"owner": "alice", "monitors": ["mona"]}, "never-heard": {}},
    }
    with Hbd(cfg) as h:
        tok = login(h.hbd_port, "alice")[0]
        # Mixed case, ties in every column, one host without rtt, one stopped.
        for name, rtt in (("Alpha-1", 5.5), ("alpha-2", 1.25), ("beta-1", 3), ("beta-2", None), ("gamma", 1.25),
                          ("q-own", 2), ("q-mgr", 7), ("q-mon", 0.5)):
            with Client(name, h.hb_port) as c:
                c.heartbeat(rtt=rtt)
                if name == "gamma":
                    c.msg("planned", event="shutdown")
        h.wait_for(lambda: any(x["name"] == "gamma" and x["state"] == "STOPPED"
                               for x in h.get_json("/api/0/hosts", token=tok)), 5, "gamma STOPPED")
        yield h


def fetch(hbd, token, query):
    st, headers, raw, body = request(hbd.hbd_port, "GET", "/api/0/hosts" + query, token=token)
    total = header(headers, "X-Total-Count")
    counts = header(headers, "X-State-Counts")
    parsed = None
    if counts:
        parsed = dict((k, int(v)) for k, v in (p.split("=") for p in counts[0].split(",")))
    return st, body, int(total[0]) if total else None, parsed, raw


def js_key(x, col):
    """The live view's sort value of an entry (web/static/js/live.js COLUMNS)."""
    conns = x.get("connections") or []
    def conn(f):
        return next((c for c in conns if c["family"] == f), None)
    if col == "state":
        return STATE_RANK.get(x["state"], 9)
    if col in ("ipv4", "ipv6"):
        c = conn(col)
        return STATE_RANK.get(c["state"], 9) if c else 10
    if col == "rtt":
        rtts = [c["rtt"] for c in conns if isinstance(c.get("rtt"), (int, float))]
        return min(rtts) if rtts else math.inf
    if col == "loss":
        return x["loss"] if conns else -1
    if col == "last_seen":
        return -(x.get("last_seen") or 0)
    raise AssertionError(col)


def js_sorted(hosts, col, desc):
    if col == "name":
        return sorted(hosts, key=lambda x: x["name"].encode(), reverse=desc)
    # Ties by name, ascending either way.
    by_name = sorted(hosts, key=lambda x: x["name"].encode())
    return sorted(by_name, key=lambda x: js_key(x, col), reverse=desc)


def test_without_the_new_parameters_the_list_and_pages_are_unchanged(hbd):
    alice = login(hbd.hbd_port, "alice")[0]
    st, headers, full_raw, full = request(hbd.hbd_port, "GET", "/api/0/hosts", token=alice)
    assert st == 200 and not header(headers, "X-State-Counts")
    st, body, total, counts, _ = fetch(hbd, alice, "?limit=3&offset=1")
    assert (st, [x["name"] for x in body], total, counts) == (200, [x["name"] for x in full[1:4]], len(full), None)


def test_name_filter_ignores_case_and_counts_by_state_without_the_state_filter(hbd):
    alice = login(hbd.hbd_port, "alice")[0]
    st, body, total, counts, _ = fetch(hbd, alice, "?q=ALPHA")
    assert st == 200 and [x["name"] for x in body] == ["Alpha-1", "alpha-2"] and total == 2
    assert counts == {"UP": 2, "LATE": 0, "DOWN": 0, "STOPPED": 0, "UNKNOWN": 0}
    st, body, total, counts, _ = fetch(hbd, alice, "?q=a&state=STOPPED")
    assert [x["name"] for x in body] == ["gamma"] and total == 1
    assert counts["STOPPED"] == 1 and counts["UP"] >= 4 and counts["UNKNOWN"] == 1  # never-heard
    st, body, total, counts, _ = fetch(hbd, alice, "?state=UNKNOWN")
    assert [x["name"] for x in body] == ["never-heard"] and total == 1
    assert sum(counts.values()) == 9
    st, body, total, _, _ = fetch(hbd, alice, "?q=no-such-host")
    assert (st, body, total) == (200, [], 0)
    # The entries are the list's own.
    full = {x["name"]: x for x in hbd.get_json("/api/0/hosts", token=alice)}
    st, body, _, _, _ = fetch(hbd, alice, "?q=beta-1")
    assert body == [full["beta-1"]]


@pytest.mark.parametrize("col", ["name", "state", "ipv4", "ipv6", "rtt", "loss", "last_seen"])
def test_every_sort_both_ways_matches_the_whole_list_sorted_and_pages_add_up(hbd, col):
    alice = login(hbd.hbd_port, "alice")[0]
    full = hbd.get_json("/api/0/hosts", token=alice)
    for order in ("asc", "desc"):
        want = [x["name"] for x in js_sorted(full, col, order == "desc")]
        st, body, total, counts, _ = fetch(hbd, alice, f"?sort={col}&order={order}")
        assert st == 200 and [x["name"] for x in body] == want, (col, order)
        assert total == len(full) and sum(counts.values()) == len(full)
        pages = []
        for offset in range(0, len(full) + 3, 3):
            st, body, total, _, _ = fetch(hbd, alice, f"?sort={col}&order={order}&limit=3&offset={offset}")
            assert st == 200 and total == len(full) and len(body) <= 3
            pages += [x["name"] for x in body]
        assert pages == want, (col, order)
    # order defaults to asc
    assert [x["name"] for x in fetch(hbd, alice, f"?sort={col}")[1]] == [x["name"] for x in js_sorted(full, col, False)]


def test_role_floor_for_a_user_who_monitors_some_hosts(hbd):
    mona = login(hbd.hbd_port, "mona")[0]
    alice = login(hbd.hbd_port, "alice")[0]
    names = lambda q, tok=mona: [x["name"] for x in fetch(hbd, tok, q)[1]]  # noqa: E731
    assert names("?sort=name") == ["q-mgr", "q-mon", "q-own"]
    assert names("?role=monitor") == ["q-mgr", "q-mon", "q-own"]
    st, body, total, counts, _ = fetch(hbd, mona, "?role=manager&sort=rtt")
    assert [x["name"] for x in body] == ["q-own", "q-mgr"] and total == 2 and counts["UP"] == 2
    assert names("?role=owner") == ["q-own"]
    assert names("?role=manager&state=UP&q=MG") == ["q-mgr"]
    # An admin holds every role on every host.
    assert len(names("?role=owner", alice)) == len(hbd.get_json("/api/0/hosts", token=alice))


def test_unknown_values_are_400_with_a_json_error(hbd):
    alice = login(hbd.hbd_port, "alice")[0]
    for bad in ("?state=up", "?state=", "?sort=size", "?sort=NAME", "?order=up", "?role=admin", "?role=none",
                "?q=a&limit=0", "?sort=rtt&offset=x"):
        st, body, _, _, raw = fetch(hbd, alice, bad)
        assert st == 400 and isinstance(body, dict) and body.get("error"), (bad, raw)
    assert "state must be one of UP, LATE, DOWN, STOPPED, UNKNOWN" in fetch(hbd, alice, "?state=x")[1]["error"]
    # Without a session nothing is listed.
    assert request(hbd.hbd_port, "GET", "/api/0/hosts?q=a")[0] == 401
