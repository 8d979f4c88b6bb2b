"""Two hbd nodes on one PostgreSQL (docs/CLUSTER.md) and one real hbc sending to both: only the leader
notifies; when the leader is killed (kill -9) and the client stops, the webhook gets exactly one DOWN,
sent by the new leader within lease + interval + grace; an outbox entry the killed leader left unsent
is sent once by its successor, with its id in X-Heartbeat-Id; the old node comes back as a follower."""

import json
import time
import uuid

import pytest

from client_support import Hbc
from cluster_support import LEASE, Nodes, down_requests, journal_notifications
from hbtest import wait_until
from notify_support import Receiver
from pg_support import postgres_fixture

pg = pytest.fixture(scope="module")(postgres_fixture)

INTERVAL, GRACE = 1, 2


def test_leader_killed_then_host_down_is_notified_once_by_the_new_leader(pg):
    hook = Receiver()
    db = pg.create_database()
    common = {"interval": INTERVAL, "grace": GRACE, "notifiers": {"hook": {"type": "webhook", "url": hook.url}}}
    try:
        with Nodes(pg, db, ("a", "b"), **common) as nodes:
            leader = nodes.wait_leader()
            follower = "b" if leader == "a" else "a"
            status = nodes.cluster(follower)
            assert {n["name"] for n in status["nodes"]} == {"a", "b"}
            assert [n["name"] for n in status["nodes"] if n["leader"]] == [leader]
            assert status["lease_expires"] > time.time()

            # One hbc sends to both nodes (hbc SERVER SERVER): both see the host UP.
            hbc = Hbc(nodes[leader], {"name": "web01", "hb_port": nodes.hb_port, "interval": INTERVAL,
                                      "default_plugins": False},
                      args=(nodes["b"].address,), server=nodes["a"].address)
            hbc.start()
            try:
                for name, n in nodes.items():
                    n.wait_host_state("web01", "UP", timeout=15)
            finally:
                nodes[leader].kill9()
                killed = time.time()
                hbc.stop()
            # The follower takes the lease and notifies the DOWN it sees: once.
            deadline = LEASE + INTERVAL + GRACE + 4  # + 4: the follower's poll, the monitor tick, delivery
            wait_until(lambda: down_requests(hook, "web01"), timeout=deadline + 10, what="the DOWN webhook",
                       interval=0.05)
            took = time.time() - killed
            assert took <= deadline, f"DOWN notified {took:.1f} s after the leader was killed"
            assert nodes.wait_leader(among=[follower]) == follower
            # Nothing more arrives: the new leader sent it once (a second copy would carry the same id).
            time.sleep(LEASE)
            downs = down_requests(hook, "web01")
            assert len(downs) == 1, downs
            sent = [r for r in journal_notifications(nodes[follower])
                    if r["result"] == "sent" and r["kind"] == "host_down" and r["host"] == "web01"]
            assert len(sent) == 1 and sent[0]["id"] == downs[0]["headers"]["X-Heartbeat-Id"]

            # The old leader comes back as a follower and sends nothing again.
            nodes[leader].start()
            assert nodes.wait_leader() == follower
            assert nodes.cluster(leader)["leader"] == follower
            nodes[leader].wait_host_state("web01", "DOWN", timeout=15)
            time.sleep(LEASE)
            assert len(down_requests(hook, "web01")) == 1
    finally:
        hook.close()


def test_an_unsent_outbox_entry_of_a_killed_leader_is_sent_once_by_its_successor(pg):
    hook = Receiver()
    db = pg.create_database()
    common = {"notifiers": {"hook": {"type": "webhook", "url": hook.url}}}
    try:
        with Nodes(pg, db, ("a", "b"), **common) as nodes:
            leader = nodes.wait_leader()
            follower = "b" if leader == "a" else "a"
            # What a leader leaves behind when it dies between writing a notification to the
            # outbox and sending it.
            nid = uuid.uuid4().hex
            record = {"id": nid, "host": "db07", "kind": "host_down", "level": "CRITICAL", "severity": "CRITICAL",
                      "text": "DOWN: db07 - no heartbeat for 75s", "to": "DOWN", "from": "UP", "ts": time.time()}
            pg.psql(db, "INSERT INTO outbox(id, node, created, event_ts, key, notification) VALUES "
                        f"('{nid}', '{leader}', extract(epoch from now()), {record['ts']}, "
                        f"'db07|host_down|DOWN|CRITICAL|', '{json.dumps(record)}')")
            nodes[leader].kill9()
            wait_until(lambda: [r for r in hook.ok() if r["headers"].get("X-Heartbeat-Id") == nid], timeout=20,
                       what="the outbox entry sent by the successor", interval=0.05)
            assert nodes.wait_leader(among=[follower]) == follower
            pg.wait_query(db, f"SELECT sent_by FROM outbox WHERE id = '{nid}'", lambda rows: rows == [[follower]],
                          what="the entry marked sent by the successor")
            time.sleep(LEASE)
            copies = [r for r in hook.ok() if r["headers"].get("X-Heartbeat-Id") == nid]
            assert len(copies) == 1, copies
            body = json.loads(copies[0]["body"])
            assert body["text"] == record["text"] and body["id"] == nid
    finally:
        hook.close()
