"""One view from every node of a cluster (docs/CLUSTER.md): a user created through node A logs in on
node B, a session made on A is valid on B and a logout on B ends it on A; an access change and a
command queued through the follower reach the other node within a second or two; only the leader
sends the CMD, and the host's RES shows on both nodes; a check acknowledged on the follower is
acknowledged on the leader too."""

import socket
import time

import pytest

from api_helpers import PASSWORD, login, request, users_config
from cluster_support import Nodes
from hbtest import Client, wait_until
from pg_support import postgres_fixture

pg = pytest.fixture(scope="module")(postgres_fixture)
KEY = "cluster-test-key-0123456789"
PROPAGATION = 3  # seconds: NOTIFY makes it well under one; the poll every tick is the fallback


def call(node, method, path, body=None, token=None):
    st, _, raw, parsed = request(node.hbd_port, method, path, body=body, token=token)
    return st, parsed if parsed is not None else raw


def test_users_sessions_access_and_commands_are_one_view(pg):
    db = pg.create_database()
    common = {"users": users_config(alice=True, bob=False), "hosts": {"web01": {"key": KEY}},
              "interval": 30, "grace": 30}
    with Nodes(pg, db, ("a", "b"), login_user="alice", **common) as nodes:
        leader = nodes.wait_leader()
        follower = "b" if leader == "a" else "a"
        a, b = nodes["a"], nodes["b"]

        # A user created through A logs in on B.
        tok_a = login(a.hbd_port, "alice")[0]
        st, got = call(a, "POST", "/api/0/users", {"username": "carol", "password": "carols-pass1"}, tok_a)
        assert st == 201, got
        wait_until(lambda: request(b.hbd_port, "POST", "/api/0/auth/login",
                                   {"username": "carol", "password": "carols-pass1"})[0],
                   ok=lambda s: s == 200, timeout=PROPAGATION, what="carol logging in on b")

        # A session made on A is valid on B; a logout on B ends it on A.
        tok = login(a.hbd_port, "bob")[0]
        wait_until(lambda: call(b, "GET", "/api/0/me", token=tok)[0], ok=lambda s: s == 200,
                   timeout=PROPAGATION, what="a's session accepted by b")
        assert call(b, "POST", "/api/0/auth/logout", {}, tok)[0] in (200, 204)
        wait_until(lambda: call(a, "GET", "/api/0/me", token=tok)[0], ok=lambda s: s == 401,
                   timeout=PROPAGATION, what="the session ended on a")

        # The host talks to both nodes.
        clients = {name: Client("web01", n.hb_port, host=n.address, key=KEY) for name, n in nodes.items()}
        for c in clients.values():
            c.heartbeat(interval=30)

        # An access change through the follower reaches the leader.
        tok_f = login(nodes[follower].hbd_port, "alice")[0]
        st, got = call(nodes[follower], "PUT", "/api/0/hosts/web01/access",
                       {"owner": "alice", "managers": ["bob"], "monitors": []}, tok_f)
        assert st == 200, got
        tok_l = login(nodes[leader].hbd_port, "alice")[0]
        wait_until(lambda: call(nodes[leader], "GET", "/api/0/hosts/web01/access", token=tok_l)[1],
                   ok=lambda v: isinstance(v, dict) and v.get("managers") == ["bob"], timeout=PROPAGATION,
                   what="the access change on the leader")

        # A command queued through the follower: only the leader sends it.
        st, got = call(nodes[follower], "POST", "/api/0/hosts/web01/commands", {"command": "uptime"}, tok_f)
        assert st == 200, got
        cmd_id = got["id"]
        assert cmd_id.endswith("-" + follower), "command ids name the node that queued them"

        def cmd_seen():
            clients[leader].heartbeat(interval=30)
            return [m for m in clients[leader].inbox if m.get("ID") == "CMD"]
        (cmd,) = wait_until(cmd_seen, timeout=PROPAGATION, what="the CMD behind the leader's ACK", interval=0.2)
        assert cmd["cmd_id"] == cmd_id and cmd["_authenticated"]
        clients[follower].heartbeat(interval=30)
        assert not [m for m in clients[follower].inbox if m.get("ID") == "CMD"], "the follower sent a CMD"

        # The RES goes to the leader; both nodes show the command done (none pending), and the
        # shared store has its result.
        clients[leader].res(cmd_id, 0, "up 3 days")
        clients[leader].heartbeat(interval=30)
        for name, n in nodes.items():
            tok_n = login(n.hbd_port, "alice")[0]
            wait_until(lambda: call(n, "GET", "/api/0/hosts/web01", token=tok_n)[1],
                       ok=lambda h: isinstance(h, dict) and h.get("commands_pending") == 0,
                       timeout=PROPAGATION, what=f"no command pending on {name}")
        pg.wait_query(db, f"SELECT json FROM commands WHERE id = '{cmd_id}'",
                      lambda rows: rows and '"state":"done"' in rows[0][0] and '"rc":0' in rows[0][0],
                      what="the command's result in the store")
        for c in clients.values():
            c.close()


def test_a_check_acknowledged_on_the_follower_is_acknowledged_on_the_leader(pg):
    db = pg.create_database()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = probe.getsockname()[1]
    probe.close()
    common = {"users": users_config(alice=True), "interval": 30, "grace": 30,
              "checks": {"db": {"type": "tcp", "address": "127.0.0.1", "port": closed, "interval": 1}}}
    with Nodes(pg, db, ("a", "b"), login_user="alice", **common) as nodes:
        leader = nodes.wait_leader()
        follower = "b" if leader == "a" else "a"
        tokens = {name: login(n.hbd_port, "alice")[0] for name, n in nodes.items()}

        def check_alert(name):
            st, got = call(nodes[name], "GET", "/api/0/alerts", token=tokens[name])
            assert st == 200, got
            return [a for a in got["alerts"] if a["metric_path"] == "check.db"]

        for name in (leader, follower):
            wait_until(lambda: check_alert(name), ok=bool, timeout=15, what=f"the check's alert on {name}")
        st, got = call(nodes[follower], "POST", "/api/0/checks/db/ack", {}, tokens[follower])
        assert st == 200, got
        acked = wait_until(lambda: check_alert(leader), ok=lambda v: v and v[0]["acknowledged"],
                           timeout=PROPAGATION, what="the check's alert acknowledged on the leader")
        assert acked[0]["ack_by"] == "alice" and acked[0]["hostname"] == "db"
