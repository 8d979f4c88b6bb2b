"""hbd with `store: postgresql://...` (docs/CLUSTER.md): one node keeps what the SQLite store keeps,
also after kill -9 (hosts and connections, plugin data and history beyond the in-memory ring, alert
states, users made through the API, the event log); `hbd check-config` names a bad connection string by its key;
a PostgreSQL that cannot be reached at start is waited for in the background, not fatal."""

import json
import subprocess
import time

import pytest

from api_helpers import login, request, users_config
from hbtest import Client, Hbd, free_port, hb_binary
from pg_support import Postgres, postgres_fixture

pg = pytest.fixture(scope="module")(postgres_fixture)


def stored(pg, db, sql):
    return pg.query(db, sql)


def test_one_node_on_postgresql_keeps_hosts_history_alerts_and_users_after_kill9(pg):
    db = pg.create_database()
    cfg = {"store": pg.conninfo(db), "cluster": {"node": "solo", "lease": 3}, "interval": 30, "grace": 30,
           "history_samples": 2, "users": users_config(alice=True),
           "thresholds": {"cpu_monitor": {"cpu_percent": {"warning": 80.0, "critical": 90.0}}}}
    with Hbd(cfg) as hbd:
        c = Client("alpha", hbd.hb_port)
        c.heartbeat(interval=30)
        t0 = time.time() - 60
        for i in range(6):
            c.plg("cpu_monitor", {"cpu_percent": 60.0 + i * 7}, ts=t0 + i)  # the last is 95: CRITICAL
        c.plg("os_info", {"system": "Linux"}, kind="info")
        c.heartbeat(interval=30)
        tok = login(hbd.hbd_port, "alice")[0]
        st, _, _, got = request(hbd.hbd_port, "POST", "/api/0/users",
                                {"username": "newbie", "password": "longenough1"}, token=tok)
        assert st == 201, got
        pg.wait_query(db, "SELECT count(*) FROM plugin_history WHERE host = 'alpha' AND plugin = 'cpu_monitor'",
                      lambda rows: rows == [["6"]], what="six history rows")
        pg.wait_query(db, "SELECT json FROM alerts WHERE host = 'alpha'",
                      lambda rows: any(json.loads(r[0]).get("level") == "CRITICAL" for r in rows),
                      what="the CRITICAL alert")
        pg.wait_query(db, "SELECT name FROM users", lambda rows: ["newbie"] in rows, what="the API user")
        pg.wait_query(db, "SELECT kind, result FROM events WHERE host = 'alpha' AND metric = 'cpu_monitor.cpu_percent'",
                      lambda rows: ["alert", "notify"] in rows, what="the alert transition in the event log")
        pg.wait_query(db, "SELECT json FROM connections WHERE host = 'alpha'",
                      lambda rows: rows and json.loads(rows[0][0]).get("seq") == c.seq, what="the last seq")
        assert stored(pg, db, "SELECT version FROM schema_version") == [["1"]]
        before = hbd.host("alpha", token=tok)
        hbd.kill9()

        hbd.start()
        tok = login(hbd.hbd_port, "alice")[0]
        after = hbd.host("alpha", token=tok)
        assert after["connections"][0]["seq"] == before["connections"][0]["seq"]
        assert sorted(after["plugins"]) == ["cpu_monitor", "os_info"]
        hist = hbd.get_json("/api/0/hosts/alpha/plugins/cpu_monitor?limit=10", token=tok)
        # Two samples from the in-memory ring, the four older ones from PostgreSQL.
        assert [s["data"]["cpu_percent"] for s in hist["samples"]] == [95.0, 88.0, 81.0, 74.0, 67.0, 60.0]
        alerts = hbd.get_json("/api/0/hosts/alpha/alerts", token=tok)["alerts"]
        assert any(a["metric_path"] == "cpu_monitor.cpu_percent" and a["level"] == "CRITICAL" for a in alerts)
        assert request(hbd.hbd_port, "POST", "/api/0/auth/login",
                       {"username": "newbie", "password": "longenough1"})[0] == 200
        # The event log answers from PostgreSQL, each row naming the node that wrote it.
        events = hbd.get_json("/api/0/events?host=alpha&metric=cpu_monitor.cpu_percent", token=tok)["events"]
        assert any(e["kind"] == "alert" and e["result"] == "notify" and e["node"] == "solo" for e in events), events
        # A single node is its own leader.
        status = hbd.get_json("/api/0/cluster", token=tok)
        assert status["leader"] == "solo" and [n["name"] for n in status["nodes"]] == ["solo"]


def test_check_config_names_a_bad_connection_string_by_its_key(tmp_path):
    for store, words in (("postgresql://hb@127.0.0.1/db?no_such_option=1", "no_such_option"),
                         ("host=127.0.0.1 bogus=1", "bogus"),
                         ("mysql://example/db", "PostgreSQL connection string")):
        cfg = tmp_path / "hb.yaml"
        cfg.write_text(f"store: '{store}'\ncluster: {{node: 'bad name!', lease: 0}}\n")
        r = subprocess.run([hb_binary("hbd"), "check-config", "-c", str(cfg)], capture_output=True, text=True,
                           timeout=20)
        assert r.returncode == 2, r
        lines = r.stderr.splitlines()
        assert any(l.startswith("store: ") and words in l for l in lines), r.stderr
        assert any(l.startswith("cluster.node: ") for l in lines), r.stderr
        assert any(l.startswith("cluster.lease: ") for l in lines), r.stderr
    cfg.write_text("store: 'postgresql://hb:secret@127.0.0.1:5432/heartbeat'\ncluster: {node: n1, lease: 5}\n")
    r = subprocess.run([hb_binary("hbd"), "check-config", "-c", str(cfg)], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0 and "OK" in r.stdout, r


def test_an_unreachable_postgresql_at_start_is_retried_not_fatal():
    port = free_port("tcp")
    hbd = Hbd({"store": f"postgresql://hb@127.0.0.1:{port}/hblate", "cluster": {"node": "late", "lease": 2},
               "interval": 30, "grace": 30})
    later = None
    try:
        hbd.start(timeout=30)  # ready although the server is not there
        assert "unreachable" in hbd.log()
        c = Client("beta", hbd.hb_port)
        c.heartbeat(interval=30)
        assert hbd.host("beta")["state"] == "UP"
        # The server appears: hbd connects, creates the schema and writes what it knows.
        later = Postgres()
        later.port = port
        later.start()
        later.psql("postgres", "CREATE DATABASE hblate")
        c.plg("cpu_monitor", {"cpu_percent": 5.0})
        c.heartbeat(interval=30)
        later.wait_query("hblate", "SELECT host FROM plugin_latest", lambda rows: rows == [["beta"]], timeout=30,
                         what="beta's data written once the server is there")
        later.wait_query("hblate", "SELECT name FROM cluster_nodes", lambda rows: rows == [["late"]], timeout=30,
                         what="the node registered")
        assert hbd.running()
    finally:
        hbd.cleanup()
        if later:
            later.cleanup()
