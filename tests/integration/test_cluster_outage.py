"""hbd nodes when PostgreSQL goes away (docs/CLUSTER.md): restarted under load, both nodes reconnect
and every sample acknowledged meanwhile reaches the store; a leader cut off from PostgreSQL stops
acting as leader before its lease runs out and sends nothing afterwards; what it held is sent once
when the database is back."""

import threading
import time

import pytest

from cluster_support import LEASE, Nodes, down_requests, journal_notifications
from hbtest import Client, Hbd, wait_until
from notify_support import Receiver
from pg_support import postgres_fixture

pg = pytest.fixture(scope="module")(postgres_fixture)


def test_postgresql_restarted_under_load_loses_nothing_acknowledged(pg):
    db = pg.create_database()
    with Nodes(pg, db, ("a", "b"), interval=30, grace=30) as nodes:
        nodes.wait_leader()
        clients = [Client("load01", n.hb_port, host=n.address) for _, n in nodes.items()]
        t0 = time.time() - 1000
        total = 200
        restart = threading.Thread(target=pg.restart)
        for i in range(total):
            for c in clients:
                c.plg("disk_monitor", {"i": i}, ts=t0 + i)
                c.heartbeat(interval=30)  # the ACK: hbd has taken everything sent before it
            if i == total // 4:
                restart.start()
            time.sleep(0.01)
        restart.join()
        pg.wait_query(db, "SELECT count(*) FROM plugin_history WHERE host = 'load01' AND plugin = 'disk_monitor'",
                      lambda rows: rows == [[str(total)]], timeout=30, what="every acknowledged sample stored")
        for name, n in nodes.items():
            n.wait_for(lambda: n.metric("heartbeat_store_connected") == 1.0 and
                       n.metric("heartbeat_cluster_connected") == 1.0, 15, f"{name} reconnected")
            assert n.metric("heartbeat_queue_dropped_total", queue="store") == 0.0
        assert nodes.wait_leader() in ("a", "b")
        for c in clients:
            c.close()


def test_a_leader_cut_off_from_postgresql_sends_nothing_after_its_lease_ran_out(pg):
    hook = Receiver()
    db = pg.create_database()
    try:
        cfg = {"store": pg.conninfo(db), "cluster": {"node": "solo", "lease": LEASE}, "interval": 1, "grace": 1,
               "notifiers": {"hook": {"type": "webhook", "url": hook.url}}}
        with Hbd(cfg) as hbd:
            hbd.wait_for(lambda: hbd.metric("heartbeat_cluster_leader") == 1.0, 15, "solo leading")
            c = Client("web01", hbd.hb_port)
            c.heartbeat(interval=1)
            pg.stop()
            stopped = time.time()
            # It stops acting as leader before the lease could run out on the database.
            hbd.wait_for(lambda: (c.heartbeat(interval=1), hbd.metric("heartbeat_cluster_leader"))[1] == 0.0,
                         LEASE + 2, "solo no longer leading", interval=0.2)
            assert time.time() - stopped < LEASE
            # The host goes DOWN afterwards: held (journaled suppressed: follower), not sent.
            c.close()
            hbd.wait_host_state("web01", "DOWN", timeout=10)
            hbd.wait_for(lambda: [r for r in journal_notifications(hbd) if r["kind"] == "host_down"
                                  and r["result"] == "suppressed" and r["reason"] == "follower"], 10,
                         "the DOWN held as a follower")
            assert down_requests(hook, "web01") == []
            # The database is back: the node leads again and sends what it held, once.
            pg.start()
            wait_until(lambda: down_requests(hook, "web01"), timeout=30, what="the held DOWN sent", interval=0.1)
            time.sleep(LEASE)
            assert len(down_requests(hook, "web01")) == 1
    finally:
        hook.close()
        if not pg.running():
            pg.start()
