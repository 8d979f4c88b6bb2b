"""Services, duty rotas and check state through the real hbd: a rota hands over at its shift
boundary (a start set just ahead), a failing check notifies its service's users and the person on
duty (and nobody else) on their own channels, the public status page needs no login and shows no
addresses or errors, roles decide who sees and runs which check, and check state survives a
restart and follows SIGHUP (added, changed and removed checks)."""
import datetime
import json
import time
from zoneinfo import ZoneInfo

from api_helpers import PASSWORD, login, request, users_config
from checks_support import Listener, closed_port
from hbtest import Hbd
from notify_support import Receiver


def checks_of(hbd, token=None):
    return {c["name"]: c for c in hbd.get_json("/api/0/checks", token=token)["checks"]}


def wait_check(hbd, name, status, timeout=15):
    return hbd.wait_for(lambda: checks_of(hbd).get(name), timeout, f"check {name} {status}",
                        ok=lambda c: c is not None and c["status"] == status)


def test_rota_hands_over_and_a_failing_check_tells_the_service_users_and_who_is_on_duty():
    hook = Receiver()
    up, db_up = Listener(), Listener()
    tz = ZoneInfo("Europe/Berlin")
    start = (datetime.datetime.now(tz) + datetime.timedelta(seconds=4)).replace(microsecond=0)
    users = users_config(admin=True, alice=False, bob=False, carol=False, dave=False)
    for name, u in users.items():
        u["notification_channels"] = ["hook"]
    config = {
        "users": users,
        "hosts": {"web01": {"managers": ["dave"]}},
        "checks": {
            "shop-front": {"type": "tcp", "address": "127.0.0.1", "port": up.port, "interval": 1},
            "shop-db": {"type": "tcp", "address": "127.0.0.1", "port": db_up.port, "interval": 1,
                        "host": "web01", "level": "WARNING"},
            "internal": {"type": "tcp", "address": "127.0.0.1", "port": closed_port(), "interval": 1},
        },
        "services": {
            "shop": {"checks": ["shop-front", "shop-db"], "users": ["carol"], "rota": "ops", "status_page": True},
            "back-office": {"checks": ["internal"]},
        },
        "rotas": {"ops": {"users": ["alice", "bob"], "shift": "1h", "timezone": "Europe/Berlin",
                          "start": start.strftime("%Y-%m-%dT%H:%M:%S")}},
        "notifiers": {"hook": {"type": "webhook", "url": hook.url + "/hb"}},
        "notify": {"dedup_window": 0},
    }
    try:
        with Hbd(config) as hbd:
            admin = login(hbd.hbd_port, "admin")[0]
            tokens = {u: login(hbd.hbd_port, u)[0] for u in ("alice", "bob", "carol", "dave")}

            # Before the first shift the turn runs backwards: bob; alice takes over at the start.
            rota = hbd.get_json("/api/0/rotas", token=admin)["rotas"][0]
            assert rota["name"] == "ops" and rota["on_duty"] == "bob"
            assert rota["next"] == {"user": "alice", "at": start.timestamp()}
            hbd.wait_for(lambda: hbd.get_json("/api/0/rotas", token=admin)["rotas"][0], 10, "the handover",
                         ok=lambda r: r["on_duty"] == "alice")
            rota = hbd.get_json("/api/0/rotas", token=admin)["rotas"][0]
            assert rota["next"] == {"user": "bob", "at": start.timestamp() + 3600}
            shop = hbd.get_json("/api/0/services/shop", token=admin)
            assert shop["on_duty"] == ["alice"] and shop["users"] == ["carol"]

            # shop's checks go down now: carol (the service's user) and alice (on duty) are told.
            hbd.wait_for(lambda: checks_of(hbd, admin), 10, "shop's checks passing",
                         ok=lambda c: c["shop-front"]["status"] == c["shop-db"]["status"] == "passing")
            up.close()
            db_up.close()
            text = f"CRITICAL: shop - shop-front: connect to 127.0.0.1:{up.port}: connection refused"
            hbd.wait_for(lambda: {b.get("user") for b in hook.json_bodies() if b["text"] == text}, 15,
                         "the notifications to carol and alice", ok=lambda s: s == {"carol", "alice"})
            # The WARNING check of shop (on host web01) too; back-office has no users: the host's
            # users are told, i.e. the admin only (no roles on a check without a host).
            hbd.wait_for(lambda: [b for b in hook.json_bodies() if b["text"].startswith("CRITICAL: back-office")],
                         15, "the back-office notification")
            time.sleep(0.5)  # would any other copy arrive?
            hbd.wait_for(lambda: [b for b in hook.json_bodies() if b["text"].startswith("WARNING: shop - shop-db")],
                         15, "the shop-db notification")
            bodies = hook.json_bodies()
            assert {b.get("user") for b in bodies if b["text"].startswith("CRITICAL: back-office")} == {"admin"}
            assert {b.get("user") for b in bodies if b["text"].startswith("WARNING: shop - shop-db")} == \
                {"carol", "alice"}
            assert not any(b.get("user") == "bob" for b in bodies)

            # Roles: carol sees shop's checks (a user of the service), dave shop-db (manager of web01),
            # bob nothing; the admin everything.
            assert set(checks_of(hbd, admin)) == {"shop-front", "shop-db", "internal"}
            assert set(checks_of(hbd, tokens["carol"])) == {"shop-front", "shop-db"}
            assert set(checks_of(hbd, tokens["dave"])) == {"shop-db", "shop-front"}  # via the service's host check
            assert checks_of(hbd, tokens["bob"]) == {}
            assert [s["name"] for s in hbd.get_json("/api/0/services", token=tokens["bob"])["services"]] == []
            status, _, _, _ = request(hbd.hbd_port, "GET", "/api/0/checks/internal", token=tokens["carol"])
            assert status == 404
            alerts = hbd.get_json("/api/0/alerts", token=tokens["carol"])["alerts"]
            assert {a["metric_path"] for a in alerts} == {"check.shop-front", "check.shop-db"}
            assert {a["metric_path"] for a in hbd.get_json("/api/0/alerts", token=tokens["bob"])["alerts"]} == set()
            # Running now: the service's user may; bob may not even see it.
            status, _, _, r = request(hbd.hbd_port, "POST", "/api/0/checks/shop-front/run", body={},
                                      token=tokens["carol"])
            assert status == 200 and r["succeeded"] is False and "connection refused" in r["error"]
            status, _, _, _ = request(hbd.hbd_port, "POST", "/api/0/checks/shop-front/run", body={},
                                      token=tokens["bob"])
            assert status == 404
            # Acknowledging the check's alert.
            status, _, _, r = request(hbd.hbd_port, "POST", "/api/0/checks/shop-front/ack", body={},
                                      token=tokens["carol"])
            assert status == 200 and r["kind"] == "acknowledged"
            alerts = hbd.get_json("/api/0/alerts", token=admin)["alerts"]
            assert [a["acknowledged"] for a in alerts if a["metric_path"] == "check.shop-front"] == [True]

            # The public status page: no login, names and states only.
            status, headers, body, _ = request(hbd.hbd_port, "GET", "/status/shop")
            assert status == 200 and b"<html" in body
            status, _, body, page = request(hbd.hbd_port, "GET", "/api/0/status/shop")
            assert status == 200
            assert page["service"] == "shop" and page["status"] == "failing"
            assert {c["name"]: c["status"] for c in page["checks"]} == {"shop-front": "failing",
                                                                         "shop-db": "failing"}
            assert "127.0.0.1" not in body.decode() and "refused" not in body.decode()
            for path in ("/status/back-office", "/api/0/status/back-office", "/api/0/status/nope"):
                assert request(hbd.hbd_port, "GET", path)[0] == 404
            assert request(hbd.hbd_port, "GET", "/api/0/checks")[0] == 401
    finally:
        hook.close()
        up.close()
        db_up.close()


def test_check_state_survives_a_restart_and_follows_sighup():
    refused = closed_port()
    config = {"checks": {
        "db": {"type": "tcp", "address": "127.0.0.1", "port": refused, "interval": 1},
        "gone": {"type": "tcp", "address": "127.0.0.1", "port": refused, "interval": 1},
        "moved": {"type": "tcp", "address": "127.0.0.1", "port": refused, "interval": 1},
    }}
    listener = Listener()
    try:
        with Hbd(config) as hbd:
            for name in ("db", "gone", "moved"):
                wait_check(hbd, name, "failing")
            before = checks_of(hbd)["db"]
            # Restart with a long interval: the state is there before any new run.
            config = hbd.config
            config["checks"]["db"]["interval"] = 3600
            hbd.write_config(config)
            hbd.restart()
            c = checks_of(hbd)["db"]
            assert c["status"] == "failing" and c["error"] == before["error"]
            assert c["last_change"] == before["last_change"]
            assert len(hbd.get_json("/api/0/checks/db")["history"]) >= 1
            assert {a["metric_path"] for a in hbd.get_json("/api/0/alerts")["alerts"]} >= \
                {"check.db", "check.gone", "check.moved"}

            # SIGHUP: one removed, one changed (now to an open port), one added.
            del config["checks"]["gone"]
            config["checks"]["moved"]["port"] = listener.port
            config["checks"]["fresh"] = {"type": "tcp", "address": "127.0.0.1", "port": listener.port,
                                         "interval": 1}
            hbd.write_config(config)
            hbd.sighup()
            hbd.wait_log("checks: reload: 1 added, 1 changed, 1 removed")
            wait_check(hbd, "moved", "passing")
            wait_check(hbd, "fresh", "passing")
            assert "gone" not in checks_of(hbd)
            alerts = {a["metric_path"] for a in hbd.get_json("/api/0/alerts")["alerts"]}
            assert "check.gone" not in alerts and "check.moved" not in alerts and "check.db" in alerts
            status, _, _ = hbd.http("GET", "/api/0/checks/gone")
            assert status == 404
            # A bad file changes nothing.
            with open(hbd.config_path, "a") as f:
                f.write("\nrotas: {bad: {users: []}}\n")
            hbd.sighup()
            hbd.wait_log("keeping the running configuration")
            assert set(checks_of(hbd)) == {"db", "moved", "fresh"}
    finally:
        listener.close()


def test_check_config_reports_key_paths(tmp_path):
    hbd = Hbd({"checks": {
        "bad name!": {"type": "tcp", "address": "x", "port": 1},
        "web": {"type": "http", "url": "ftp://x", "method": "PUT", "expect_status": [700], "expect_body": "("},
        "c": {"type": "carrier-pigeon"},
        "t": {"type": "tls", "address": "x", "warn_days": 5, "critical_days": 9},
        "n": {"type": "nagios", "command": "check_x -H y"},
        "d": {"type": "dns", "record": "SRV"},
    }, "services": {"s": {"checks": ["nope"], "rota": "none"}},
        "rotas": {"r": {"users": [], "timezone": "Mars/Olympus", "start": "soon"}}})
    try:
        import subprocess
        r = subprocess.run([hbd.binary, "-c", hbd.config_path, "check-config"], capture_output=True, text=True,
                           timeout=30)
        out = r.stdout + r.stderr
        assert r.returncode == 2, out
        for needle in ("checks.bad name!: a check name has only letters",
                       "checks.web.url: must start with http:// or https://",
                       "checks.web.method: must be one of GET HEAD POST",
                       "checks.web.expect_status.0: must be an HTTP status code",
                       "checks.web.expect_body: is not a valid regular expression",
                       "checks.c.type: unknown check type \"carrier-pigeon\" (http | tcp | icmp | dns | tls | nagios)",
                       "checks.t.critical_days: must not be above warn_days",
                       "checks.n.command: must be a list",
                       "checks.d.query: is required",
                       "checks.d.record: must be one of A AAAA CNAME MX NS TXT",
                       "services.s.checks.0: no check \"nope\" in `checks`",
                       "services.s.rota: no rota \"none\" in `rotas`",
                       "rotas.r.users: needs at least one user",
                       "rotas.r.timezone: unknown time zone \"Mars/Olympus\"",
                       "rotas.r.start: must be a local time"):
            assert needle in out, needle + "\n" + out
    finally:
        hbd.cleanup()
