"""Alerting policy through a real hbd and a webhook receiver (docs/ALERTING.md): partition
detection with 200 simulated hosts (one PARTITION instead of 100 DOWNs, PARTITION OVER, then the
hosts still DOWN one by one), a failing canary check making a single silent host a partition,
an escalation ladder climbing to its second step with the reason journaled, a service's ladder
on its check's alert, and GET /api/0/events answering from the store why an alert was (not) notified,
filtered by the caller's roles."""
import json
import socket
import threading
import time

from api_helpers import login, request, users_config
from hbtest import Client, Hbd, encode
from notify_support import Receiver


class Fleet:
    """Many simulated hosts heartbeating from one UDP socket (hbd tells hosts apart by name),
    every `period` seconds, until stopped; hosts can be silenced and resumed."""

    def __init__(self, port, names, interval=2, period=0.25):
        self.server = ("127.0.0.1", port)
        self.names = list(names)
        self.silent = set()
        self.interval = interval
        self.period = period
        self.seq = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_flag.is_set():
            self.seq += 1
            with self.lock:
                speaking = [n for n in self.names if n not in self.silent]
            for n in speaking:
                msg = {"ID": "HTB", "name": n, "ver": 1, "seq": self.seq, "interval": self.interval,
                       "ts": time.time(), "agent": "fleet/1"}
                self.sock.sendto(encode(msg), self.server)
            try:  # the ACKs are not needed: keep the socket buffer empty
                while True:
                    self.sock.recv(65536)
            except (BlockingIOError, OSError):
                pass
            self.stop_flag.wait(self.period)

    def silence(self, names):
        with self.lock:
            self.silent.update(names)

    def resume(self, names):
        with self.lock:
            self.silent.difference_update(names)

    def close(self):
        self.stop_flag.set()
        self.thread.join(5)
        self.sock.close()


def bodies(hook, kind=None):
    return [b for b in hook.json_bodies() if kind is None or b["kind"] == kind]


def events(hbd, token=None, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return hbd.get_json("/api/0/events" + (f"?{q}" if q else ""), token=token)["events"]


def test_partition_one_notification_instead_of_a_hundred():
    hook = Receiver()
    names = [f"node{i:03d}" for i in range(200)]
    config = {
        # Heartbeats every 0.25 s with interval 2: a host is LATE 2.5 s after its last one, DOWN
        # after 6 s, so a stalled sender thread on a busy machine does not look like a partition.
        "interval": 2,
        "grace": 4,
        "partition": {"threshold": 0.3, "min_hosts": 10, "window": 10},
        "notifiers": {"hook": {"type": "webhook", "url": hook.url + "/hb"}},
        "notify": {"rate_limit_count": 1000},
    }
    fleet = None
    try:
        with Hbd(config) as hbd:
            fleet = Fleet(hbd.hb_port, names)
            hbd.wait_for(lambda: sum(h["state"] == "UP" for h in hbd.hosts()) == 200, timeout=20,
                         what="200 hosts UP")
            cut, back, lost = names[:100], names[:97], names[97:100]
            fleet.silence(cut)
            partition = hbd.wait_for(lambda: bodies(hook, "partition"), timeout=20, what="the PARTITION webhook")
            assert partition[0]["text"] == \
                "PARTITION: 100 of 200 hosts went silent within 10s - hbd may be cut off from them"
            assert partition[0]["level"] == "CRITICAL"
            # The hosts still show DOWN; their DOWNs are journaled as suppressed, not sent.
            hbd.wait_for(lambda: sum(h["state"] == "DOWN" for h in hbd.hosts()) == 100, timeout=20,
                         what="100 hosts DOWN")
            held = hbd.wait_for(lambda: events(hbd, kind="host_down", result="suppressed", limit=1000),
                                ok=lambda v: len(v) == 100, timeout=10, what="100 DOWNs suppressed")
            assert {e["reason"] for e in held} == {"partition"}
            assert {e["host"] for e in held} == set(cut)
            assert bodies(hook, "host_down") == []
            assert len(bodies(hook, "partition")) == 1

            fleet.resume(back)
            over = hbd.wait_for(lambda: [b for b in bodies(hook, "partition") if "OVER" in b["text"]], timeout=20,
                                what="the PARTITION OVER webhook")
            assert over[0]["text"].startswith("PARTITION OVER: 97 of 100 hosts are back after "), over[0]["text"]
            assert over[0]["level"] == "OK"
            # One window later the three still DOWN are notified one by one.
            downs = hbd.wait_for(lambda: bodies(hook, "host_down"), ok=lambda v: len(v) == 3, timeout=20,
                                 what="3 DOWN webhooks")
            assert sorted(b["host"] for b in downs) == lost
            assert all(b["text"].startswith(f"DOWN: {b['host']} - no heartbeat for ") for b in downs)
            assert bodies(hook, "host_up") == []  # the 97 returns: their DOWN was never sent
            assert len(bodies(hook, "partition")) == 2
            kinds = [(e["kind"], e["result"]) for e in events(hbd, kind="partition")]
            assert ("partition", "partition") in kinds and ("partition", "partition_over") in kinds
            assert ("partition", "sent") in kinds
    finally:
        if fleet:
            fleet.close()
        hook.close()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_a_failing_canary_check_makes_one_silent_host_a_partition():
    hook = Receiver()
    names = [f"node{i:02d}" for i in range(20)]
    config = {
        "interval": 2,
        "grace": 4,
        "checks": {"uplink": {"type": "tcp", "address": "127.0.0.1", "port": closed_port(), "interval": 1}},
        "partition": {"threshold": 0.3, "min_hosts": 10, "window": 10, "canaries": ["uplink"]},
        "notifiers": {"hook": {"type": "webhook", "url": hook.url + "/hb"}},
        "notify": {"rate_limit_count": 1000},
    }
    fleet = None
    try:
        with Hbd(config) as hbd:
            fleet = Fleet(hbd.hb_port, names)
            hbd.wait_for(lambda: sum(h["state"] == "UP" for h in hbd.hosts()) == 20, timeout=20,
                         what="20 hosts UP")
            hbd.wait_for(lambda: hbd.get_json("/api/0/checks/uplink")["status"] == "failing", timeout=10,
                         what="the canary failing")
            # One host of 20 is far below the threshold: only the failing canary makes it a partition.
            fleet.silence(names[:1])
            partition = hbd.wait_for(lambda: bodies(hook, "partition"), timeout=20, what="the PARTITION webhook")
            assert partition[0]["text"].endswith("(canary uplink failing)"), partition[0]["text"]
            assert partition[0]["text"].startswith("PARTITION: 1 of 20 hosts went silent"), partition[0]["text"]
            held = hbd.wait_for(lambda: events(hbd, kind="host_down", result="suppressed"), timeout=10,
                                what="the DOWN suppressed")
            assert {e["host"] for e in held} == {"node00"}
            assert bodies(hook, "host_down") == []
    finally:
        if fleet:
            fleet.close()
        hook.close()


def test_escalation_ladder_climbs_and_recovery_reaches_everyone_told():
    hook = Receiver()
    config = {
        "thresholds": {"cpu_monitor": {"cpu_percent": {"warning": 80, "critical": 90}}},
        "notifiers": {"chat": {"type": "webhook", "url": hook.url + "/chat"},
                      "pager": {"type": "webhook", "url": hook.url + "/pager"}},
        "escalations": {"oncall": [{"after": 0, "channels": ["chat"]}, {"after": 2, "channels": ["pager"]}]},
        "hosts": {"db01": {"escalation": "oncall"}},
    }
    try:
        with Hbd(config) as hbd:
            db = Client("db01", hbd.hb_port)
            db.heartbeat(interval=30)
            db.plg("cpu_monitor", {"cpu_percent": 95.0})
            text = "CRITICAL: db01 - cpu_monitor.cpu_percent = 95.0"
            hbd.wait_for(lambda: [r for r in hook.ok() if r["path"] == "/chat"], timeout=10, what="step 1 on chat")
            pager = hbd.wait_for(lambda: [r for r in hook.ok() if r["path"] == "/pager"], timeout=10,
                                 what="step 2 on pager")
            assert json.loads(pager[0]["body"])["text"] == text
            esc = hbd.wait_for(lambda: events(hbd, host="db01", result="escalated"), timeout=10,
                               what="the escalation in the event log")
            assert [e["reason"] for e in esc] == ["escalated: step 2 after 2s, not acknowledged"]
            assert esc[0]["metric_path"] == "cpu_monitor.cpu_percent"
            db.plg("cpu_monitor", {"cpu_percent": 10.0})
            recovered = "RECOVERED: db01 - cpu_monitor.cpu_percent = 10.0 (CRITICAL -> OK)"
            got = hbd.wait_for(lambda: [r["path"] for r in hook.ok() if json.loads(r["body"])["text"] == recovered],
                               ok=lambda v: len(v) == 2, timeout=10, what="the recovery on chat and pager")
            assert sorted(got) == ["/chat", "/pager"]
            db.close()
    finally:
        hook.close()


def test_a_services_escalation_ladder_routes_its_checks_alerts():
    hook = Receiver()
    config = {
        "notifiers": {"chat": {"type": "webhook", "url": hook.url + "/chat"},
                      "pager": {"type": "webhook", "url": hook.url + "/pager"}},
        "escalations": {"oncall": [{"after": 0, "channels": ["pager"]}]},
        "checks": {"db": {"type": "tcp", "address": "127.0.0.1", "port": closed_port(), "interval": 1}},
        "services": {"shop": {"checks": ["db"], "escalation": "oncall"}},
    }
    try:
        with Hbd(config) as hbd:
            got = hbd.wait_for(lambda: [r for r in hook.ok() if r["path"] == "/pager"], timeout=15,
                               what="the check's alert on the ladder's pager")
            assert json.loads(got[0]["body"])["text"].startswith("CRITICAL: shop - db: connect to 127.0.0.1:")
            time.sleep(1)
            assert [r for r in hook.ok() if r["path"] == "/chat"] == []  # the ladder, not every notifier
    finally:
        hook.close()


def test_events_say_why_an_alert_was_or_was_not_notified():
    """A maintenance-suppressed alert, a rate-limited one and a sent one, each with its reason;
    a user with a role on one host sees only that host's events."""
    hook = Receiver()
    config = {"users": users_config(admin=True, bob=False), "hosts": {"web01": {"monitors": ["bob"]}}}
    config.update({
        "thresholds": {"cpu_monitor": {"cpu_percent": {"warning": 80}}},
        "notifiers": {"hook": {"type": "webhook", "url": hook.url + "/hb"}},
        "notify": {"rate_limit_count": 1, "rate_limit_window": 3600},
        "maintenance": [{"name": "db-upgrade", "hosts": ["maint01"], "start": int(time.time()) - 60,
                         "duration": 3600}],
    })
    config["users"]["admin"]["notification_channels"] = ["hook"]
    try:
        with Hbd(config) as hbd:
            token = login(hbd.hbd_port, "admin")[0]
            clients = {n: Client(n, hbd.hb_port) for n in ("maint01", "web01", "web02")}
            for c in clients.values():
                c.heartbeat(interval=30)
            clients["maint01"].plg("cpu_monitor", {"cpu_percent": 91.0})
            clients["web01"].plg("cpu_monitor", {"cpu_percent": 92.0})
            hbd.wait_for(lambda: [b for b in hook.json_bodies() if b.get("host") == "web01"], timeout=10,
                         what="web01's alert sent")
            clients["web02"].plg("cpu_monitor", {"cpu_percent": 93.0})

            suppressed = hbd.wait_for(lambda: events(hbd, token, host="maint01", metric="cpu_monitor.cpu_percent"),
                                      timeout=10, what="maint01's transition")
            assert suppressed[0]["kind"] == "alert" and suppressed[0]["result"] == "suppressed"
            assert suppressed[0]["reason"] == "raised: 91.0 > 80.0; suppressed: maintenance db-upgrade"
            assert suppressed[0]["text"] == "WARNING: maint01 - cpu_monitor.cpu_percent = 91.0"

            sent = hbd.wait_for(lambda: events(hbd, token, host="web01", result="sent"), timeout=10, what="web01 sent")
            assert sent[0]["channel"] == "hook" and sent[0]["user"] == "admin"
            assert sent[0]["metric_path"] == "cpu_monitor.cpu_percent"
            assert [e["result"] for e in events(hbd, token, host="web01", kind="alert")] == ["sent", "notify"]

            limited = hbd.wait_for(lambda: events(hbd, token, host="web02", result="suppressed"), timeout=10,
                                   what="web02 rate-limited")
            assert limited[0]["reason"] == "rate-limited" and limited[0]["user"] == "admin"
            assert not [b for b in hook.json_bodies() if b.get("host") == "web02"]

            # Newest first, limited, and for bob only web01's events.
            all_events = events(hbd, token, limit=3)
            assert len(all_events) == 3
            assert all(a["time"] >= b["time"] for a, b in zip(all_events, all_events[1:]))
            bob = login(hbd.hbd_port, "bob")[0]
            assert {e["host"] for e in events(hbd, bob)} == {"web01"}
            status, _, _, _ = request(hbd.hbd_port, "GET", "/api/0/events?host=maint01", token=bob)
            assert status == 404
            status, _, body, _ = request(hbd.hbd_port, "GET", "/api/0/events?result=perhaps", token=token)
            assert status == 400 and b"result must be one of" in body
            status, _, _, _ = request(hbd.hbd_port, "GET", "/events", token=token)
            assert status == 200
            for c in clients.values():
                c.close()
    finally:
        hook.close()


def test_check_config_reports_the_new_keys_by_path(tmp_path):
    import subprocess
    from hbtest import hb_binary
    bad = tmp_path / "bad.yaml"
    bad.write_text("""
timezone: Mars/Base
threshold_renotify_backoff: 0
partition: {threshold: 3}
escalations: {oncall: [{after: 0, channels: [nosuch]}]}
escalation_default: nightshift
thresholds: {p: {x: {warning: 1, for: {samples: 4, of: 3}}}}
maintenance: [{name: m, days: [sun], at: "02:00", duration: 1h, timezone: Nowhere/Land}]
users: {alice: {quiet_hours: {start: "22:00", end: "07:00", timezone: Atlantis}}}
""")
    r = subprocess.run([hb_binary("hbd"), "check-config", "-c", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    for line in ["timezone: unknown time zone \"Mars/Base\"",
                 "threshold_renotify_backoff: must be a number from 1 to 1000",
                 "partition.threshold: must be between 0 and 1",
                 "escalations.oncall.0.channels.0: no notifier named \"nosuch\"",
                 "escalation_default: unknown escalation \"nightshift\" (known: oncall)",
                 "thresholds.p.x.for.of: must be a whole number from 4 to 32, not 3",
                 "maintenance.0.timezone: unknown time zone \"Nowhere/Land\"",
                 "users.alice.quiet_hours.timezone: unknown time zone \"Atlantis\""]:
        assert line in r.stderr, (line, r.stderr)
    good = tmp_path / "good.yaml"
    good.write_text("""
timezone: Europe/Berlin
threshold_renotify_backoff: 2
threshold_renotify_max: 1d
partition: {threshold: 0.3, min_hosts: 10, window: 60}
notifiers: {chat: {type: webhook, url: "http://127.0.0.1:9/"}}
escalations: {oncall: [{after: 0, channels: [chat]}, {after: 900, channels: [chat]}]}
escalation_default: oncall
hosts: {db01: {escalation: oncall}}
thresholds: {p: {x: {warning: 1, for: {samples: 3, of: 5}, recover_after: {samples: 4, of: 5}}}}
maintenance: [{name: m, days: [sun], at: "02:00", duration: 1h, timezone: America/New_York}]
""")
    r = subprocess.run([hb_binary("hbd"), "check-config", "-c", str(good)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
