"""End to end through the real hbd: UDP heartbeats and plugin data go in, the
alert engine and the host monitor raise transitions, and the notifier delivers
them to a real SMTP server and a signed webhook; an unwatched host's DOWN and one in a
maintenance window are suppressed with the reason in the journal; /metrics counts per channel."""
import glob
import hashlib
import hmac
import json
import os
import time

from hbtest import Client, Hbd, read_json_lines
from notify_support import Receiver, SmtpSink


def journal_notifications(hbd):
    out = []
    for path in sorted(glob.glob(os.path.join(hbd.config["journal_dir"], "messages.journal*"))):
        for rec in read_json_lines(path):
            if rec.get("event") == "notification":
                out.append(rec["data"])
    return out


def test_alerts_and_host_down_are_mailed_and_posted_by_hbd():
    hook = Receiver()
    smtp = SmtpSink()
    try:
        config = {
            "interval": 1,
            "grace": 1,
            "thresholds": {"cpu_monitor": {"cpu_percent": {"warning": 80, "critical": 90}}},
            "notifiers": {
                "hook": {"type": "webhook", "url": hook.url + "/hb", "secret": "k3y"},
                "mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_tls": "none",
                         "from": "hbd@example.com", "to": ["ops@example.com"]},
            },
            "hosts": {"quiet01": {"watch": False}},
            "maintenance": [{"name": "db-upgrade", "hosts": ["db01"], "start": int(time.time()) - 60,
                             "duration": 3600}],
            "notify": {"retry_initial": 0.2},
        }
        with Hbd(config) as hbd:
            web = Client("web01", hbd.hb_port)
            quiet = Client("quiet01", hbd.hb_port)
            db = Client("db01", hbd.hb_port)
            web.heartbeat(interval=1)
            quiet.heartbeat(interval=1)
            db.heartbeat(interval=1)
            hbd.wait_host_state("web01", "UP")
            web.plg("cpu_monitor", {"cpu_percent": 95.0})
            hbd.wait_for(lambda: any(b["text"] == "CRITICAL: web01 - cpu_monitor.cpu_percent = 95.0"
                                     for b in hook.json_bodies()), timeout=15, what="the CRITICAL webhook")
            r = [x for x in hook.ok() if json.loads(x["body"])["kind"] == "alert"][0]
            assert r["headers"]["X-Heartbeat-Signature"] == \
                "sha256=" + hmac.new(b"k3y", r["body"], hashlib.sha256).hexdigest()
            hbd.wait_for(lambda: any("Subject: CRITICAL: web01 - cpu_monitor.cpu_percent = 95.0" in m["data"]
                                     for m in smtp.messages), timeout=15, what="the CRITICAL mail")

            # Both hosts fall silent: web01 goes DOWN and notifies, quiet01 is unwatched.
            hbd.wait_host_state("web01", "DOWN", timeout=15)
            hbd.wait_host_state("quiet01", "DOWN", timeout=15)
            hbd.wait_host_state("db01", "DOWN", timeout=15)
            hbd.wait_for(lambda: any(b["kind"] == "host_down" and b["host"] == "web01" for b in hook.json_bodies()),
                         timeout=15, what="the DOWN webhook")
            down = [b for b in hook.json_bodies() if b["kind"] == "host_down"][0]
            assert down["text"].startswith("DOWN: web01")
            assert not any(b["host"] in ("quiet01", "db01") for b in hook.json_bodies())

            status, _, body = hbd.http("GET", "/metrics")
            assert status == 200
            text = body.decode()
            assert 'heartbeat_notifications_total{channel="hook",result="sent"}' in text
            assert hbd.stop() == 0
            records = journal_notifications(hbd)
            assert any(r["result"] == "sent" and r["channel"] == "mail" and r["host"] == "web01" for r in records)
            assert any(r["result"] == "suppressed" and r["reason"] == "watch=false" and r["host"] == "quiet01"
                       for r in records), records
            assert any(r["result"] == "suppressed" and r["reason"] == "maintenance" and r["host"] == "db01"
                       for r in records), records
    finally:
        hook.close()
        smtp.close()


def test_routing_follows_users_changed_through_the_api_also_after_restart():
    """A user created through /api/0/users receives notifications at once, still after a restart
    (the overlay from state_db is handed to the notifier at start-up), and no more once deleted."""
    from api_helpers import login, request, users_config

    hook = Receiver()
    try:
        config = {
            "users": users_config(alice=True),  # alice has no notification channels
            "thresholds": {"cpu_monitor": {"cpu_percent": {"warning": 80, "critical": 90}}},
            "notifiers": {"hook": {"type": "webhook", "url": hook.url + "/hb"}},
            "notify": {"dedup_window": 0},
        }

        def api(hbd, method, path, body=None):
            tok = login(hbd.hbd_port, "alice")[0]
            st, _, raw, _ = request(hbd.hbd_port, method, path, body=body, token=tok)
            assert st in (200, 201), raw

        with Hbd(config) as hbd:
            web = Client("web01", hbd.hb_port)
            web.heartbeat(interval=30)
            web.plg("cpu_monitor", {"cpu_percent": 95.0})
            def unrouted():
                return sum(n.get("reason") == "no recipient" for n in journal_notifications(hbd))

            hbd.wait_for(lambda: unrouted() >= 1, timeout=15, what="the alert suppressed: nobody receives it")
            assert hook.ok() == []

            api(hbd, "POST", "/api/0/users", {"username": "oncall", "password": "oncall-pw-1", "admin": True,
                                              "notification_channels": ["hook"]})
            web.plg("cpu_monitor", {"cpu_percent": 50.0})
            hbd.wait_for(lambda: any(b.get("kind") == "alert" for b in hook.json_bodies()), timeout=15,
                         what="the RECOVERED webhook")

            hbd.restart()
            web.plg("cpu_monitor", {"cpu_percent": 96.0})
            hbd.wait_for(lambda: any("96.0" in b.get("text", "") for b in hook.json_bodies()),
                         timeout=15, what="the CRITICAL webhook after restart")

            api(hbd, "DELETE", "/api/0/users/oncall")
            n, before = len(hook.ok()), unrouted()
            web.plg("cpu_monitor", {"cpu_percent": 40.0})
            hbd.wait_for(lambda: unrouted() > before, timeout=15, what="the recovery suppressed again")
            assert len(hook.ok()) == n
    finally:
        hook.close()
