"""Helpers for tests/integration/test_cluster_*.py: hbd nodes sharing one PostgreSQL (pg_support.py),
each on its own loopback address (127.0.0.1, 127.0.0.2, ...) with the same UDP port, so that one
hbc sends to all of them with `hbc SERVER SERVER`; the cluster status; a webhook receiver."""

import glob
import json
import os

from api_helpers import login
from hbtest import Hbd, free_port, read_json_lines, wait_until

LEASE = 3  # seconds: short, to keep failovers fast


def node_config(pg, db, name, hb_port, address, lease=LEASE, **extra):
    cfg = {"store": pg.conninfo(db), "cluster": {"node": name, "lease": lease}, "hb_host": address,
           "hb_port": hb_port}
    cfg.update(extra)
    return cfg


class Nodes:
    """Several Hbd nodes on one database; stopped (and their directories removed) on exit."""

    def __init__(self, pg, db, names=("a", "b"), lease=LEASE, login_user=None, **common):
        self.pg, self.db, self.lease = pg, db, lease
        self.login_user = login_user  # with users configured: who reads /api/0/cluster
        self.hb_port = free_port("udp")
        self.nodes = {}
        for i, name in enumerate(names):
            address = f"127.0.0.{i + 1}"
            self.nodes[name] = Hbd(node_config(pg, db, name, self.hb_port, address, lease, **common))
            self.nodes[name].address = address

    def __getitem__(self, name):
        return self.nodes[name]

    def items(self):
        return self.nodes.items()

    def addresses(self):
        return [n.address for n in self.nodes.values()]

    def start(self):
        for n in self.nodes.values():
            n.start()
        return self

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()

    def cleanup(self):
        for n in self.nodes.values():
            n.cleanup()

    def running(self):
        return {k: v for k, v in self.nodes.items() if v.running()}

    def cluster(self, name):
        token = login(self.nodes[name].hbd_port, self.login_user)[0] if self.login_user else None
        return self.nodes[name].get_json("/api/0/cluster", token=token)

    def wait_leader(self, among=None, timeout=20):
        """Waits until a running node reports a leader that is one of `among` (default: any running
        node) and every running node agrees; returns the leader's name."""
        def probe():
            seen = {name: self.cluster(name).get("leader") for name in self.running()}
            return seen
        want = set(among or self.running())
        seen = wait_until(probe, lambda s: len(set(s.values())) == 1 and next(iter(s.values())) in want,
                          timeout, "one leader every node agrees on", interval=0.1)
        return next(iter(seen.values()))


def journal_notifications(hbd):
    """The notification records of a node's journal ({"result", "reason", "kind", "host", "id", ...})."""
    out = []
    for path in sorted(glob.glob(os.path.join(hbd.config["journal_dir"], "messages.journal*"))):
        out += [r["data"] for r in read_json_lines(path) if r.get("event") == "notification"]
    return out


def down_requests(receiver, host):
    """Webhook deliveries of `host` going DOWN."""
    return [r for r in receiver.ok() if (b := _json(r["body"])) and b.get("host") == host and b.get("kind") == "host_down"]


def _json(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return None
