"""Threshold alerting through a real hbd: PLG samples and HTB RTTs over UDP, alert
states read back from /api/0/alerts and /api/0/hosts/{h}/alerts (shapes of docs/API.md),
the generic nagios match, profiles, maintenance windows, acknowledgement, the
journal, a restart, and `hbd check-config` reporting rule errors by key path."""

import glob
import json
import os
import subprocess
import time

import pytest

from hbtest import Client, Hbd, hb_binary

THRESHOLDS = {
    "threshold_renotify_interval": 3600,
    "thresholds": {
        "rtt": {"web01": {"warning": 100.0, "critical": 500.0}},
        "cpu_monitor": {
            "cpu_percent": {"warning": 80.0, "critical": 90.0, "operator": ">", "hysteresis": 0.1,
                            "display": "(threshold: {op_symbol} {threshold_value}%)"},
        },
        "disk_monitor": {"partitions": {"/": {"free_gb": {"warning": 10.0, "critical": 5.0, "operator": "<"}}}},
        "nagios_runner": {"status_code": {"operator": "nagios", "display": "{check_name}: {output}"}},
    },
    "threshold_configs": {
        "tight_cpu": {"thresholds": {"cpu_monitor": {"cpu_percent": {"warning": 60, "critical": 75}}}},
        "db_disk": {"thresholds": {"disk_monitor": {"partitions": {"/var/lib/postgresql": {
            "percent": {"warning": 75, "critical": 88}}}}}},
    },
    "hosts": {"db01": {"threshold_config": ["tight_cpu", "db_disk"]}},
}


def thresholds(**changes):
    """THRESHOLDS with some top-level keys set to other values."""
    return {**THRESHOLDS, **changes}


def sending(hbd, name, **htb):
    """A client `name` whose first heartbeat (interval 30 s, plus `htb`) has been sent."""
    c = Client(name, hbd.hb_port)
    c.heartbeat(interval=30, **htb)
    return c


def alerts(hbd):
    return hbd.get_json("/api/0/alerts")


def host_alert(hbd, host, path):
    for a in hbd.get_json(f"/api/0/hosts/{host}/alerts")["alerts"]:
        if a["metric_path"] == path:
            return a
    return None


def wait_level(hbd, host, path, level, timeout=5):
    return hbd.wait_for(lambda: host_alert(hbd, host, path), timeout, f"{host} {path} {level}",
                        ok=lambda a: a is not None and a["level"] == level)


def wait_judged(hbd, host, path, value, timeout=5):
    """Waits until the alert engine has judged a sample with `value` (its last_value); returns the alert."""
    return hbd.wait_for(lambda: host_alert(hbd, host, path), timeout, f"{host} {path} judged at {value}",
                        ok=lambda a: a is not None and a["last_value"] == value)


def journal_alerts(hbd):
    out = []
    for f in sorted(glob.glob(os.path.join(hbd.dir, "journal", "*"))):
        with open(f, errors="replace") as fh:
            for line in fh:
                if '"alert"' in line:
                    out.append(line)
    return out


def test_warning_critical_recovery_and_shapes():
    with Hbd(THRESHOLDS) as hbd:
        c = sending(hbd, "web01")
        c.plg("cpu_monitor", {"cpu_percent": 85.0, "load_1min": 0.5})
        a = wait_level(hbd, "web01", "cpu_monitor.cpu_percent", "WARNING")
        assert a["last_value"] == 85.0
        assert a["notification_count"] == 1
        for k in ("metric_path", "level", "since", "last_value", "last_check", "notification_count"):
            assert k in a

        c.plg("cpu_monitor", {"cpu_percent": 95.0})
        a = wait_level(hbd, "web01", "cpu_monitor.cpu_percent", "CRITICAL")
        assert a["notification_count"] == 2
        body = alerts(hbd)
        assert body["summary"] == {"critical": 1, "warning": 0, "unknown": 0, "total": 1}
        assert body["host_count"] >= 1
        (entry,) = body["alerts"]
        assert entry["hostname"] == "web01"
        assert entry["metric_path"] == "cpu_monitor.cpu_percent"
        assert entry["last_value"] == 95.0

        # Hysteresis 10 %: 85 stays CRITICAL (recovery below 81); 79 is below 81 but above
        # the warning's recovery threshold (72): a silent de-escalation; 70 recovers.
        c.plg("cpu_monitor", {"cpu_percent": 85.0})
        assert wait_judged(hbd, "web01", "cpu_monitor.cpu_percent", 85.0)["level"] == "CRITICAL"
        c.plg("cpu_monitor", {"cpu_percent": 79.0})
        a = wait_level(hbd, "web01", "cpu_monitor.cpu_percent", "WARNING")
        assert a["notification_count"] == 2
        assert a["reason"].endswith("not notified: de-escalation")
        c.plg("cpu_monitor", {"cpu_percent": 70.0})
        a = wait_level(hbd, "web01", "cpu_monitor.cpu_percent", "OK")
        assert a["notification_count"] == 0
        body = hbd.get_json("/api/0/hosts/web01/alerts")
        assert body["hostname"] == "web01"
        assert body["summary"] == {"ok": 1, "warning": 0, "critical": 0, "unknown": 0}
        assert alerts(hbd)["alerts"] == []

        # Every transition is journaled with its text and reason.
        # The journal writer runs on its own thread: wait for the last transition's line.
        lines = hbd.wait_for(
            lambda: (lambda l: l if any("(WARNING -> OK)" in x for x in l) else None)(journal_alerts(hbd)), 10,
            "journal")
        text = "\n".join(lines)
        assert "WARNING: web01 - cpu_monitor.cpu_percent = 85.0" in text
        assert "(threshold: > 80.0%)" in text  # the rendered display, beside the text
        assert "CRITICAL: web01 - cpu_monitor.cpu_percent = 95.0" in text
        assert "(threshold: > 90.0%)" in text
        assert "RECOVERED: web01 - cpu_monitor.cpu_percent = 70.0 (WARNING -> OK)" in text
        assert "raised: 85.0 > 80.0" in text


def test_inverse_operator_nested_path_and_rtt():
    with Hbd(THRESHOLDS) as hbd:
        c = sending(hbd, "web01", rtt=12.0)
        c.plg("disk_monitor", {"partitions": {"/": {"free_gb": 4.2, "percent": 97}, "/var": {"free_gb": 1}}})
        a = wait_level(hbd, "web01", "disk_monitor.partitions./.free_gb", "CRITICAL")
        assert a["last_value"] == 4.2
        assert host_alert(hbd, "web01", "disk_monitor.partitions./var.free_gb") is None  # no rule

        c.heartbeat(interval=30, rtt=125.3)
        a = wait_level(hbd, "web01", "rtt.web01", "WARNING")
        assert a["last_value"] == 125.3
        c.heartbeat(interval=30, rtt=520.1)
        wait_level(hbd, "web01", "rtt.web01", "CRITICAL")
        c.heartbeat(interval=30, rtt=45.2)
        wait_level(hbd, "web01", "rtt.web01", "OK")
        # The journal writer runs on its own thread: wait for the recovery's line.
        recovered = "RECOVERED: web01 - rtt.web01 = 45.2 (CRITICAL -> OK)"
        text = "\n".join(hbd.wait_for(lambda: journal_alerts(hbd), 10, "the recovery in the journal",
                                      ok=lambda lines: any(recovered in x for x in lines)))
        assert recovered in text


def test_generic_nagios_match():
    with Hbd(THRESHOLDS) as hbd:
        c = sending(hbd, "web02")
        c.plg("nagios_runner", {
            "check_disk_root_status_code": 2, "check_disk_root_status": "CRITICAL",
            "check_disk_root_output": "DISK CRITICAL - free space: / 100 MB (1%)",
            "check_load_status_code": 0, "check_load_status": "OK", "check_load_output": "LOAD OK",
        })
        a = wait_level(hbd, "web02", "nagios_runner.check_disk_root_status_code", "CRITICAL")
        assert a["display"] == "check_disk_root: DISK CRITICAL - free space: / 100 MB (1%)"
        assert host_alert(hbd, "web02", "nagios_runner.check_load_status_code")["level"] == "OK"
        c.plg("nagios_runner", {"check_disk_root_status_code": 3, "check_disk_root_output": "cannot stat"})
        wait_level(hbd, "web02", "nagios_runner.check_disk_root_status_code", "UNKNOWN")
        assert alerts(hbd)["summary"]["unknown"] == 1


def test_profiles_apply_left_to_right():
    with Hbd(THRESHOLDS) as hbd:
        db, web = Client("db01", hbd.hb_port), Client("web03", hbd.hb_port)
        db.heartbeat(interval=30)
        web.heartbeat(interval=30)
        db.plg("cpu_monitor", {"cpu_percent": 70.0})
        web.plg("cpu_monitor", {"cpu_percent": 70.0})
        db.plg("disk_monitor", {"partitions": {"/var/lib/postgresql": {"percent": 90}, "/": {"free_gb": 50}}})
        wait_level(hbd, "db01", "cpu_monitor.cpu_percent", "WARNING")  # tight_cpu: warning 60
        wait_level(hbd, "db01", "disk_monitor.partitions./var/lib/postgresql.percent", "CRITICAL")  # db_disk
        wait_level(hbd, "db01", "disk_monitor.partitions./.free_gb", "OK")  # inherited from the defaults
        assert wait_judged(hbd, "web03", "cpu_monitor.cpu_percent", 70.0)["level"] == "OK"  # defaults: warning 80


def test_maintenance_window_and_end_of_window():
    now = time.time()
    window = {"name": "nightly-backup", "hosts": ["db-*"], "start": now - 10, "end": now + 8}
    with Hbd(thresholds(maintenance=[window])) as hbd:
        c = sending(hbd, "db-7")
        c.plg("cpu_monitor", {"cpu_percent": 95.0})
        a = wait_level(hbd, "db-7", "cpu_monitor.cpu_percent", "CRITICAL")
        assert a["maintenance"] == "nightly-backup"
        assert a["notification_count"] == 0  # tracked, not sent
        assert "suppressed: maintenance nightly-backup" in a["reason"]
        # When the window ends the current level is sent.
        a = hbd.wait_for(lambda: (lambda x: x if x["notification_count"] == 1 else None)(
            host_alert(hbd, "db-7", "cpu_monitor.cpu_percent")), 15, "resend at the end of the window")
        assert a["maintenance"] is None
        assert a["reason"] == "maintenance nightly-backup ended: OK was last sent, now CRITICAL"


def test_watch_false_tracks_without_notifying():
    with Hbd(thresholds(hosts={"quiet": {"watch": False}})) as hbd:
        c = sending(hbd, "quiet")
        c.plg("cpu_monitor", {"cpu_percent": 95.0})
        a = wait_level(hbd, "quiet", "cpu_monitor.cpu_percent", "CRITICAL")
        assert a["notification_count"] == 0
        assert a["reason"].endswith("suppressed: watch false")
        assert alerts(hbd)["summary"]["critical"] == 1  # still on the alerts page


def test_acknowledge_through_the_api():
    with Hbd(thresholds(threshold_renotify_interval=1)) as hbd:
        c = sending(hbd, "web01")
        c.plg("cpu_monitor", {"cpu_percent": 95.0})
        c.plg("disk_monitor", {"partitions": {"/": {"free_gb": 1.0}}})  # a control, never acknowledged
        wait_level(hbd, "web01", "cpu_monitor.cpu_percent", "CRITICAL")
        wait_level(hbd, "web01", "disk_monitor.partitions./.free_gb", "CRITICAL")
        # Reminders every second until acknowledged.
        hbd.wait_for(lambda: host_alert(hbd, "web01", "cpu_monitor.cpu_percent")["notification_count"] >= 2, 5,
                     "a reminder")
        status, _, body = hbd.http("POST", "/api/0/hosts/web01/alerts/ack",
                                   body={"metric_path": "cpu_monitor.cpu_percent"})
        assert status == 200, body
        ev = json.loads(body)
        assert ev["kind"] == "acknowledged"
        assert ev["text"].startswith("ACKNOWLEDGED (CRITICAL): web01 - cpu_monitor.cpu_percent = 95.0")
        a = host_alert(hbd, "web01", "cpu_monitor.cpu_percent")
        assert a["acknowledged"] is True
        count = a["notification_count"]
        # Two renotify intervals pass: the unacknowledged control gets two more reminders meanwhile.
        control = host_alert(hbd, "web01", "disk_monitor.partitions./.free_gb")["notification_count"]
        hbd.wait_for(lambda: host_alert(hbd, "web01", "disk_monitor.partitions./.free_gb"), 10,
                     "two reminders of the unacknowledged control alert",
                     ok=lambda x: x["notification_count"] >= control + 2)
        assert host_alert(hbd, "web01", "cpu_monitor.cpu_percent")["notification_count"] == count  # no reminders
        assert hbd.http("POST", "/api/0/hosts/web01/alerts/ack", body={"metric_path": "nope.x"})[0] == 404
        assert hbd.http("POST", "/api/0/hosts/web01/alerts/ack", body={})[0] == 400
        assert hbd.http("GET", "/api/0/hosts/web01/alerts/ack")[0] == 405
        # A level change clears the acknowledgement; acknowledging an OK metric is a conflict.
        c.plg("cpu_monitor", {"cpu_percent": 10.0})
        a = wait_level(hbd, "web01", "cpu_monitor.cpu_percent", "OK")
        assert a["acknowledged"] is False
        assert hbd.http("POST", "/api/0/hosts/web01/alerts/ack",
                        body={"metric_path": "cpu_monitor.cpu_percent"})[0] == 409
        lines = hbd.wait_for(lambda: journal_alerts(hbd), 10, "the acknowledgement in the journal",
                             ok=lambda lines: any('"acknowledged"' in line for line in lines))
        assert any('"acknowledged"' in line for line in lines)


def test_alert_state_survives_a_restart():
    with Hbd(THRESHOLDS) as hbd:
        c = sending(hbd, "web01")
        c.plg("cpu_monitor", {"cpu_percent": 95.0})
        before = wait_level(hbd, "web01", "cpu_monitor.cpu_percent", "CRITICAL")
        hbd.restart()  # SIGTERM commits everything queued (docs/STORAGE.md)
        after = hbd.wait_for(lambda: host_alert(hbd, "web01", "cpu_monitor.cpu_percent"), 5, "restored alert")
        assert after["level"] == "CRITICAL"
        assert after["since"] == before["since"]
        assert after["notification_count"] == 1
        # The same level again is not a new alert; recovery names the restored level.
        c = sending(hbd, "web01")
        c.plg("cpu_monitor", {"cpu_percent": 96.0})
        assert wait_judged(hbd, "web01", "cpu_monitor.cpu_percent", 96.0)["notification_count"] == 1
        c.plg("cpu_monitor", {"cpu_percent": 5.0})
        wait_level(hbd, "web01", "cpu_monitor.cpu_percent", "OK")


def test_check_config_reports_rule_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("""
thresholds:
  cpu_monitor:
    cpu_percent: {warning: 90, critical: 80}
    load_1min: {warning: 1, operator: "=>"}
    steal: {warning: 1, hysteresis: 1.5}
  nagios_runner:
    status_code: {operator: nagios, display: "{check_nme}: {output}"}
threshold_configs:
  tight: {thresholds: {}}
hosts:
  db01: {threshold_config: [tight, nosuch]}
maintenance:
  - {name: nightly, cron: "0 2 * *", duration: 1h}
""")
    r = subprocess.run([hb_binary("hbd"), "check-config", "-c", str(bad)], capture_output=True, text=True,
                       timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode == 2, out
    assert "thresholds.cpu_monitor.cpu_percent.warning: warning (90.0) must be below critical (80.0)" in out
    assert 'thresholds.cpu_monitor.load_1min.operator: unknown operator "=>"' in out
    assert "thresholds.cpu_monitor.steal.hysteresis: must be a fraction between 0 and 1" in out
    assert "thresholds.nagios_runner.status_code.display: unknown template variable {check_nme}" in out
    assert 'hosts.db01.threshold_config.1: unknown profile "nosuch"' in out
    assert "maintenance.0.cron: must have 5 fields" in out


def test_missing_data_goes_unknown_and_reload_changes_rules():
    with Hbd(thresholds(threshold_missing_after=1)) as hbd:
        c = sending(hbd, "web01")
        c.plg("cpu_monitor", {"cpu_percent": 50.0})
        wait_level(hbd, "web01", "cpu_monitor.cpu_percent", "OK")
        a = wait_level(hbd, "web01", "cpu_monitor.cpu_percent", "UNKNOWN", timeout=5)
        assert a["last_value"] is None
        assert a["reason"].startswith("missing: no sample for ")
        c.plg("cpu_monitor", {"cpu_percent": 50.0})
        wait_level(hbd, "web01", "cpu_monitor.cpu_percent", "OK")

        # SIGHUP with new thresholds: the next sample is judged by them.
        cfg2 = dict(hbd.config)
        cfg2["threshold_missing_after"] = 0
        cfg2["thresholds"] = {"cpu_monitor": {"cpu_percent": {"warning": 40, "critical": 60}}}
        hbd.write_config(cfg2)
        hbd.sighup()
        hbd.wait_log("configuration reloaded")
        c.plg("cpu_monitor", {"cpu_percent": 50.0})
        wait_level(hbd, "web01", "cpu_monitor.cpu_percent", "WARNING")


def test_notifications_follow_the_transitions():
    """Only notifying transitions reach a notifier: WARNING, CRITICAL and the recovery with
    the display template beside the text; the de-escalation in between sends nothing."""
    from notify_support import Receiver

    hook = Receiver()
    try:
        with Hbd(thresholds(notifiers={"hook": {"type": "webhook", "url": hook.url + "/hb"}})) as hbd:
            c = sending(hbd, "web01")
            for v, level in ((85.0, "WARNING"), (95.0, "CRITICAL"), (79.0, "WARNING"), (10.0, "OK")):
                c.plg("cpu_monitor", {"cpu_percent": v})
                wait_level(hbd, "web01", "cpu_monitor.cpu_percent", level)

            def texts():
                return [b["text"] for b in hook.json_bodies() if b.get("metric_path") == "cpu_monitor.cpu_percent"]
            # The recovery is the last transition: one worker sends in order, so once it is here, a
            # notification for the de-escalation before it would be here too.
            hbd.wait_for(texts, 10, "the recovery webhook", ok=lambda t: any(x.startswith("RECOVERED") for x in t))
            assert texts() == [
                "WARNING: web01 - cpu_monitor.cpu_percent = 85.0 (threshold: > 80.0%)",
                "CRITICAL: web01 - cpu_monitor.cpu_percent = 95.0 (threshold: > 90.0%)",
                "RECOVERED: web01 - cpu_monitor.cpu_percent = 10.0 (WARNING -> OK) (threshold: > 80.0%)",
            ]
    finally:
        hook.close()
