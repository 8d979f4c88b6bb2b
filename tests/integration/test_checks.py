"""Active checks through the real hbd against real servers on loopback: HTTPS servers with
certificates made by openssl (valid through a test CA, expiring in 5 days, self-signed) answering
200, 500 or slowly; a closed TCP port; ICMP to 127.0.0.1; a real BIND 9; Nagios plugins from
monitoring-plugins-basic. Each case shows the check's status, its alert in /api/0/alerts, the
webhook notification with the error text and, where the test can mend the target, the recovery."""
import os
import socket
import subprocess

import pytest

from checks_support import Certs, Listener, WebServer, closed_port
from hbtest import Hbd
from notify_support import Receiver

PLUGINS = "/usr/lib/nagios/plugins"


@pytest.fixture(scope="module")
def certs():
    c = Certs()
    yield c
    c.cleanup()


@pytest.fixture(scope="module")
def servers(certs):
    s = {name: WebServer(certs, name) for name in ("valid", "expiring", "selfsigned")}
    s["valid"].status = 500
    yield s
    for x in s.values():
        x.close()


def checks_of(hbd):
    return {c["name"]: c for c in hbd.get_json("/api/0/checks")["checks"]}


def wait_check(hbd, name, status, timeout=15):
    return hbd.wait_for(lambda: checks_of(hbd).get(name), timeout, f"check {name} {status}",
                        ok=lambda c: c is not None and c["status"] == status)


def alert_of(hbd, name):
    for a in hbd.get_json("/api/0/alerts")["alerts"]:
        if a["metric_path"] == "check." + name:
            return a
    return None


def texts(hook):
    return [b["text"] for b in hook.json_bodies()]


def wait_text(hbd, hook, text, timeout=15):
    hbd.wait_for(lambda: text in texts(hook), timeout, f"webhook {text!r}", ok=bool)


def icmp_possible():
    for kind in (socket.SOCK_DGRAM, socket.SOCK_RAW):
        try:
            socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP).close()
            return True
        except OSError:
            continue
    return False


def test_http_tls_tcp_icmp_and_nagios_checks(certs, servers):
    hook = Receiver()
    db_port = closed_port()
    valid, expiring, selfsigned = servers["valid"], servers["expiring"], servers["selfsigned"]
    checks = {
        "shop-front": {"type": "http", "url": valid.url + "/health", "ca_file": certs.ca, "expect_status": [200],
                       "expect_body": "ok|healthy", "interval": 1},
        "slow": {"type": "http", "url": valid.url + "/slow", "ca_file": certs.ca, "interval": 2, "timeout": 1},
        "untrusted": {"type": "http", "url": selfsigned.url + "/ok", "interval": 2, "level": "WARNING"},
        "untrusted-ok": {"type": "http", "url": selfsigned.url + "/ok", "insecure": True, "interval": 2},
        "cert": {"type": "tls", "address": "127.0.0.1", "port": valid.port, "ca_file": certs.ca, "interval": 2},
        "cert-soon": {"type": "tls", "address": "127.0.0.1", "port": expiring.port, "ca_file": certs.ca,
                      "interval": 2, "warn_days": 21, "critical_days": 7},
        "cert-selfsigned": {"type": "tls", "address": "127.0.0.1", "port": selfsigned.port, "interval": 2},
        "shop-db": {"type": "tcp", "address": "127.0.0.1", "port": db_port, "interval": 1},
        "db-plugin": {"type": "nagios", "interval": 1,
                      "command": [PLUGINS + "/check_tcp", "-H", "127.0.0.1", "-p", str(db_port)]},
        "gateway": {"type": "icmp", "address": "127.0.0.1", "count": 2, "interval": 2},
    }
    config = {"checks": checks,
              "services": {"shop": {"checks": ["shop-front", "shop-db", "cert-soon"], "status_page": True}},
              "notifiers": {"hook": {"type": "webhook", "url": hook.url + "/hb"}},
              "notify": {"dedup_window": 0, "rate_limit_count": 100},
              # A check's metrics are ordinary samples of the plugin `checks`: thresholds apply.
              "thresholds": {"checks": {"cert": {"days_left": {"warning": 400, "operator": "<"}}}}}
    listener = None
    try:
        with Hbd(config) as hbd:
            # HTTP 500 from the real HTTPS server (trusted through ca_file): failing, alerted, notified.
            c = wait_check(hbd, "shop-front", "failing")
            url = valid.url + "/health"
            assert c["error"] == f"HTTP 500 from {url}" and c["level"] == "CRITICAL"
            assert c["description"] == f"HTTP GET {url} expecting 200 and a body matching /ok|healthy/"
            a = hbd.wait_for(lambda: alert_of(hbd, "shop-front"), 10, "the shop-front alert")
            assert a["level"] == "CRITICAL" and a["hostname"] == "shop-front"
            wait_text(hbd, hook, f"CRITICAL: shop - shop-front: HTTP 500 from {url}")
            # The body must match too.
            valid.status, valid.body = 200, b"nope"
            hbd.wait_for(lambda: checks_of(hbd)["shop-front"]["error"], 10, "the body error",
                         ok=lambda e: e == f"body of {url} does not match /ok|healthy/")
            valid.body = b"healthy"
            wait_check(hbd, "shop-front", "passing")
            wait_text(hbd, hook, "RECOVERED: shop - shop-front (CRITICAL -> OK)")
            hbd.wait_for(lambda: alert_of(hbd, "shop-front") is None, 10, "the alert gone")
            detail = hbd.get_json("/api/0/checks/shop-front")
            assert detail["history"] and detail["history"][-1]["succeeded"] is True
            assert detail["metrics"]["status_code"] == 200

            # Slow answers: the timeout.
            c = wait_check(hbd, "slow", "failing")
            assert c["error"] == f"no answer from {valid.url}/slow within 1 s"
            wait_text(hbd, hook, f"CRITICAL: slow: no answer from {valid.url}/slow within 1 s")

            # A self-signed certificate: not trusted (WARNING as configured), unless insecure.
            c = wait_check(hbd, "untrusted", "failing")
            assert c["level"] == "WARNING"
            assert c["error"] == f"certificate of 127.0.0.1:{selfsigned.port} not trusted: self-signed certificate"
            wait_text(hbd, hook, "WARNING: untrusted: " + c["error"])
            wait_check(hbd, "untrusted-ok", "passing")

            # TLS: a year left passes; 5 days left is within critical_days; self-signed is untrusted.
            c = wait_check(hbd, "cert", "passing")
            days = hbd.get_json("/api/0/checks/cert")["metrics"]["days_left"]
            assert days >= 360
            a = hbd.wait_for(lambda: [x for x in hbd.get_json("/api/0/alerts")["alerts"]
                                      if x["metric_path"] == "checks.cert.days_left"], 10, "the days_left alert")[0]
            assert a["level"] == "WARNING" and a["hostname"] == "cert" and a["last_value"] == days
            wait_text(hbd, hook, f"WARNING: cert - checks.cert.days_left = {days:.1f}")
            c = wait_check(hbd, "cert-soon", "failing")
            assert c["error"] == "certificate expires in 5 days" and c["level"] == "CRITICAL"
            wait_text(hbd, hook, "CRITICAL: shop - cert-soon: certificate expires in 5 days")
            c = wait_check(hbd, "cert-selfsigned", "failing")
            assert c["error"] == f"certificate of 127.0.0.1:{selfsigned.port} not trusted: self-signed certificate"

            # A closed port, by a tcp check and by the Nagios plugin check_tcp; both recover once it opens.
            c = wait_check(hbd, "shop-db", "failing")
            assert c["error"] == f"connect to 127.0.0.1:{db_port}: connection refused"
            wait_text(hbd, hook, f"CRITICAL: shop - shop-db: connect to 127.0.0.1:{db_port}: connection refused")
            c = wait_check(hbd, "db-plugin", "failing")
            assert "Connection refused" in c["error"]
            assert alert_of(hbd, "db-plugin")["level"] == "CRITICAL"
            wait_text(hbd, hook, "CRITICAL: db-plugin: " + c["error"])
            listener = Listener(db_port)
            wait_check(hbd, "shop-db", "passing")
            wait_check(hbd, "db-plugin", "passing")
            wait_text(hbd, hook, "RECOVERED: shop - shop-db (CRITICAL -> OK)")
            wait_text(hbd, hook, "RECOVERED: db-plugin (CRITICAL -> OK)")
            assert "time" in hbd.get_json("/api/0/checks/db-plugin")["metrics"].get("perfdata", {})

            # ICMP to 127.0.0.1 (a failing case: test_icmp_check_in_a_network_namespace).
            if icmp_possible():
                wait_check(hbd, "gateway", "passing")
                m = hbd.get_json("/api/0/checks/gateway")["metrics"]
                assert m["loss_percent"] == 0 and m["rtt_ms"] >= 0
            else:
                c = wait_check(hbd, "gateway", "failing")
                assert c["error"].startswith("ICMP not permitted")

            assert hbd.metric("heartbeat_checks_configured") == len(checks)
            assert hbd.metric("heartbeat_check_runs_total") > 0
    finally:
        if listener:
            listener.close()
        hook.close()


def test_dns_checks_against_bind():
    named_mod = pytest.importorskip("test_persist_dns")
    if not os.path.exists(named_mod.NAMED):
        pytest.skip("bind9 is needed")
    named = named_mod.Named()
    hook = Receiver()
    zone = named_mod.ZONE
    try:
        checks = {
            "ns": {"type": "dns", "server": "127.0.0.1", "port": named.port, "query": "ns." + zone, "record": "A",
                   "expect": ["127.0.0.1"], "interval": 1},
            "www": {"type": "dns", "server": "127.0.0.1", "port": named.port, "query": "www." + zone,
                    "record": "A", "expect": ["192.0.2.10"], "interval": 1},
            "ns-wrong": {"type": "dns", "server": "127.0.0.1", "port": named.port, "query": "ns." + zone,
                         "expect": ["192.0.2.99"], "interval": 1},
            "nameservers": {"type": "dns", "server": "127.0.0.1", "port": named.port, "query": zone,
                            "record": "NS", "expect": ["ns." + zone], "interval": 1},
        }
        config = {"checks": checks, "services": {"web": {"checks": ["www"]}},
                  "notifiers": {"hook": {"type": "webhook", "url": hook.url + "/hb"}}}
        with Hbd(config) as hbd:
            c = wait_check(hbd, "ns", "passing")
            assert hbd.get_json("/api/0/checks/ns")["metrics"]["answers"] == ["127.0.0.1"]
            wait_check(hbd, "nameservers", "passing")
            c = wait_check(hbd, "ns-wrong", "failing")
            assert c["error"] == f"ns.{zone} A at 127.0.0.1:{named.port}: got 127.0.0.1, expected 192.0.2.99"
            c = wait_check(hbd, "www", "failing")
            assert c["error"] == f"www.{zone} A at 127.0.0.1:{named.port}: NXDOMAIN (no such name)"
            assert alert_of(hbd, "www")["level"] == "CRITICAL"
            wait_text(hbd, hook, "CRITICAL: web - www: " + c["error"])
            # The record appears (a real dynamic update): the check recovers.
            subprocess.run(["/usr/bin/nsupdate", "-k", named.key_path],
                           input=f"server 127.0.0.1 {named.port}\nupdate add www.{zone} 60 A 192.0.2.10\nsend\n",
                           text=True, check=True, capture_output=True, timeout=10)
            wait_check(hbd, "www", "passing")
            wait_text(hbd, hook, "RECOVERED: web - www (CRITICAL -> OK)")
    finally:
        hook.close()
        named.stop()


class Netns:
    """A network namespace joined to this one by a veth pair: 10.213.N.1 here, 10.213.N.2 there."""

    def __init__(self):
        n = os.getpid() % 250
        self.name = f"hbt{os.getpid()}"
        self.here, self.there = f"hbt{os.getpid()}a", f"hbt{os.getpid()}b"
        self.address = f"10.213.{n}.2"
        self.ok = False
        steps = [["ip", "netns", "add", self.name],
                 ["ip", "link", "add", self.here, "type", "veth", "peer", "name", self.there],
                 ["ip", "link", "set", self.there, "netns", self.name],
                 ["ip", "addr", "add", f"10.213.{n}.1/30", "dev", self.here],
                 ["ip", "link", "set", self.here, "up"],
                 ["ip", "netns", "exec", self.name, "ip", "addr", "add", f"{self.address}/30", "dev", self.there],
                 ["ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up"]]
        for step in steps:
            r = subprocess.run(step, capture_output=True, text=True, timeout=10)
            if r.returncode != 0:
                self.why = f"{' '.join(step)}: {r.stderr.strip()}"
                self.close()
                return
        self.ok = True

    def link(self, up):
        subprocess.run(["ip", "netns", "exec", self.name, "ip", "link", "set", self.there, "up" if up else "down"],
                       check=True, capture_output=True, timeout=10)

    def close(self):
        subprocess.run(["ip", "link", "del", self.here], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)


def test_icmp_check_in_a_network_namespace():
    if not icmp_possible():
        pytest.skip("neither unprivileged ICMP sockets (net.ipv4.ping_group_range) nor CAP_NET_RAW")
    ns = Netns()
    if not ns.ok:
        pytest.skip("cannot create a network namespace here: " + ns.why)
    hook = Receiver()
    try:
        config = {"checks": {"peer": {"type": "icmp", "address": ns.address, "count": 2, "interval": 1,
                                      "timeout": 1}},
                  "notifiers": {"hook": {"type": "webhook", "url": hook.url + "/hb"}}}
        with Hbd(config) as hbd:
            # Its interface down: every echo request is lost.
            c = wait_check(hbd, "peer", "failing")
            assert c["error"].startswith(f"no reply from {ns.address} (2 of 2 pings lost")
            assert hbd.get_json("/api/0/checks/peer")["metrics"]["loss_percent"] == 100
            assert alert_of(hbd, "peer")["level"] == "CRITICAL"
            wait_text(hbd, hook, "CRITICAL: peer: " + c["error"])
            ns.link(True)
            wait_check(hbd, "peer", "passing")
            wait_text(hbd, hook, "RECOVERED: peer (CRITICAL -> OK)")
            assert hbd.get_json("/api/0/checks/peer")["metrics"]["loss_percent"] == 0
    finally:
        hook.close()
        ns.close()
