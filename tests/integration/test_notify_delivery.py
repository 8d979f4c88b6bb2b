"""The delivery pipeline through the real notifier and channels against local
receivers: retries after server errors, fallback with a channel alert,
suppression by watch:false and maintenance (journaled with the reason), and a
burst folded into a digest."""
import json
import time

import pytest

from notify_support import Receiver, alert, run_driver


@pytest.fixture
def receivers():
    made = []

    def make(*statuses):
        r = Receiver(statuses or (200,))
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def hook(r, path="/in"):
    return {"type": "webhook", "url": r.url + path}


def test_500_twice_then_200_gets_the_message_once_after_retries(receivers):
    r = receivers(500, 500, 200)
    config = {"notifiers": {"hook": hook(r)}, "notify": {"retry_initial": 0.2, "retry_attempts": 4}}
    journal, metrics = run_driver(config, [alert("web01", "cpu_monitor.cpu_percent", "CRITICAL", 97.0)])
    assert [x["status"] for x in r.requests] == [500, 500, 200]
    assert len(r.ok()) == 1
    assert r.json_bodies()[0]["text"] == "CRITICAL: web01 - cpu_monitor.cpu_percent = 97.0"
    assert [(x["result"], x.get("attempt")) for x in journal] == [("retried", 1), ("retried", 2), ("sent", 3)]
    assert journal[0]["error"].startswith("HTTP 500")
    assert 'heartbeat_notifications_total{channel="hook",result="retried"} 2' in metrics
    assert 'heartbeat_notifications_total{channel="hook",result="sent"} 1' in metrics


def test_a_channel_that_keeps_failing_falls_back_and_raises_a_channel_alert(receivers):
    bad = receivers(503)
    good = receivers(200)
    config = {
        "notifiers": {"pager": hook(bad, "/pager"), "backup": hook(good, "/backup")},
        "users": {"alice": {"notification_channels": ["pager"], "fallback_channels": ["backup"]}},
        "hosts": {"web01": {"owner": "alice"}},
        "notify": {"retry_initial": 0.1, "retry_attempts": 3},
    }
    journal, metrics = run_driver(config, [alert("web01", "memory_monitor.percent", "CRITICAL", 99.0)])
    assert len(bad.requests) == 3  # the first try and two retries
    texts = [b["text"] for b in good.json_bodies()]
    assert texts[0] == "CRITICAL: web01 - memory_monitor.percent = 99.0"
    assert texts[1].startswith("NOTIFIER FAILED: pager (webhook) - HTTP 503")
    assert good.json_bodies()[1]["kind"] == "channel_failure"
    results = [(x["result"], x["channel"]) for x in journal]
    assert results[:4] == [("retried", "pager"), ("retried", "pager"), ("failed", "pager"), ("fell_back", "pager")]
    assert ("sent", "backup") in results
    fell = [x for x in journal if x["result"] == "fell_back"][0]
    assert fell["reason"] == "to backup" and fell["user"] == "alice"
    assert 'heartbeat_notifications_total{channel="pager",result="failed"} 1' in metrics


def test_watch_false_and_maintenance_suppress_with_the_reason_in_the_journal(receivers):
    r = receivers(200)
    now = time.time()
    config = {
        "notifiers": {"hook": hook(r)},
        "hosts": {"quiet01": {"watch": False}},
        "maintenance": [{"hosts": ["db01"], "start": now - 60, "end": now + 600}],
    }
    journal, metrics = run_driver(config, [alert("quiet01", "cpu_monitor.cpu_percent"),
                                           alert("db01", "cpu_monitor.cpu_percent"),
                                           alert("web01", "cpu_monitor.cpu_percent")])
    assert [b["host"] for b in r.json_bodies()] == ["web01"]
    suppressed = {x["host"]: x["reason"] for x in journal if x["result"] == "suppressed"}
    assert suppressed == {"quiet01": "watch=false", "db01": "maintenance"}
    assert 'reason="maintenance"} 1' in metrics


def test_a_burst_of_50_alerts_to_one_user_arrives_as_a_handful_plus_a_digest(receivers):
    r = receivers(200)
    config = {
        "notifiers": {"hook": hook(r)},
        "users": {"alice": {"notification_channels": ["hook"]}, "bob": {"notification_channels": ["hook"]}},
        "hosts": {"web01": {"owner": "alice"}},
        "notify": {"rate_limit_count": 5, "rate_limit_window": 2},
    }
    step = alert("web01", "nagios_runner.check", "WARNING", 1.0)
    step["repeat"] = 50
    journal, _ = run_driver(config, [step])
    bodies = r.json_bodies()
    assert len(bodies) == 6
    assert all(b["user"] == "alice" for b in bodies)
    assert not any(b.get("digest") for b in bodies[:5])
    digest = bodies[5]
    assert digest["digest"] is True
    assert digest["text"] == "DIGEST: 45 more notifications for alice in the last 2s"
    assert len(digest["items"]) == 45
    assert digest["items"][0]["text"] == "WARNING: web01 - nagios_runner.check.5 = 1.0"
    assert sum(1 for x in journal if x.get("reason") == "rate-limited") == 45


def test_quiet_hours_and_severity_filter_are_journaled(receivers):
    r = receivers(200)
    config = {
        "notifiers": {"hook": hook(r)},
        "users": {"night": {"notification_channels": ["hook"],
                            "quiet_hours": {"start": "00:00", "end": "24:00"}},
                  "crit": {"notification_channels": ["hook"], "notification_level": "CRITICAL"}},
        "hosts": {"web01": {"owner": "night", "managers": ["crit"]}},
    }
    journal, _ = run_driver(config, [alert("web01", "cpu_monitor.cpu_percent", "WARNING")])
    assert r.requests == []
    reasons = sorted((x["user"], x["reason"]) for x in journal)
    assert reasons == [("crit", "severity"), ("night", "quiet hours")]
