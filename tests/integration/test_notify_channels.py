"""Each notifier type delivers through the real notifier (libcurl) to a real
SMTP server (aiosmtpd) or to a local receiver standing in for the SaaS API,
with the right subject, body and signature."""
import hashlib
import json
import hmac
import urllib.parse

import pytest

from notify_support import Receiver, SmtpSink, alert, run_driver


@pytest.fixture
def smtp():
    s = SmtpSink()
    yield s
    s.close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_email_reaches_a_real_smtp_server_with_subject_and_body(smtp):
    config = {"notifiers": {"mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_tls": "none", "from": "hbd@example.com",
                                     "to": ["ops@example.com", "dev@example.com"]}}}
    journal, _ = run_driver(config, [alert("webserver01", "cpu_monitor.cpu_percent", "CRITICAL", 95.5)])
    assert len(smtp.messages) == 1
    m = smtp.messages[0]
    assert m["from"] == "hbd@example.com"
    assert m["rcpt"] == ["ops@example.com", "dev@example.com"]
    assert "Subject: CRITICAL: webserver01 - cpu_monitor.cpu_percent = 95.5" in m["data"]
    body = m["data"].split("\n\n", 1)[1] if "\n\n" in m["data"] else m["data"].split("\r\n\r\n", 1)[1]
    assert body.startswith("CRITICAL: webserver01 - cpu_monitor.cpu_percent = 95.5")
    assert "host: webserver01" in body
    assert [r["result"] for r in journal] == ["sent"]
    assert journal[0]["channel"] == "mail"


def test_email_goes_to_each_users_own_address(smtp):
    config = {
        "notifiers": {"mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                               "smtp_tls": "none", "from": "hbd@example.com"}},
        "users": {"alice": {"notification_channels": ["mail"],
                            "notification_settings": {"email": {"to": ["alice@example.com"]}}},
                  "bob": {"notification_channels": ["mail"],
                          "notification_settings": {"email": {"to": "bob@example.com"}}}},
        "hosts": {"web01": {"owner": "alice"}, "db01": {"owner": "bob"}},
    }
    run_driver(config, [alert("web01", "cpu_monitor.cpu_percent", "WARNING", 85.0)])
    assert [m["rcpt"] for m in smtp.messages] == [["alice@example.com"]]
    assert "Subject: WARNING: web01 - cpu_monitor.cpu_percent = 85.0" in smtp.messages[0]["data"]


def test_host_down_event_becomes_a_down_mail(smtp):
    config = {"notifiers": {"mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_tls": "none", "from": "hbd@example.com", "to": ["ops@example.com"]}},
              "notify": {"dedup_window": 0}}  # the second DOWN is no duplicate here
    steps = [{"event": {"kind": "host", "host": "web01", "ts": 1000, "data": {"state": "UP"}}},
             {"event": {"kind": "host", "host": "web01", "ts": 1100, "data": {"state": "DOWN", "last_seen": 1010}}},
             {"event": {"kind": "host", "host": "web01", "ts": 1102, "data": {"state": "UP"}}},
             {"event": {"kind": "host", "host": "web01", "ts": 1200, "data": {"state": "DOWN", "last_seen": 1190}}},
             {"event": {"kind": "host", "host": "web01", "ts": 1260, "data": {"state": "UP"}}}]
    run_driver(config, steps)
    subjects = [line for m in smtp.messages for line in m["data"].splitlines() if line.startswith("Subject:")]
    # The 2 s DOWN sends no recovery (docs/NOTIFICATIONS.md: under 4 seconds).
    assert subjects == ["Subject: DOWN: web01 - no heartbeat for 90s",
                        "Subject: DOWN: web01 - no heartbeat for 10s",
                        "Subject: UP: web01 - was DOWN for 60s"]


def test_pushover_gets_a_form_post_with_token_user_and_message(receiver):
    config = {"notifiers": {"push": {"type": "pushover", "token": "apptoken", "user": "userkey",
                                     "url": receiver.url + "/1/messages.json"}}}
    run_driver(config, [alert("database01", "memory_monitor.percent", "CRITICAL", 96.0)])
    assert len(receiver.requests) == 1
    r = receiver.requests[0]
    assert r["path"] == "/1/messages.json"
    form = urllib.parse.parse_qs(r["body"].decode())
    assert form["token"] == ["apptoken"]
    assert form["user"] == ["userkey"]
    assert form["message"] == ["CRITICAL: database01 - memory_monitor.percent = 96.0"]
    assert form["priority"] == ["1"]


def test_mattermost_gets_text_channel_and_username(receiver):
    config = {"notifiers": {"mm": {"type": "mattermost", "url": receiver.url + "/hooks/abc",
                                   "channel": "ops", "username": "heartbeat"}}}
    run_driver(config, [{"notification": {"host": "webserver01", "kind": "alert", "level": "OK",
                                          "severity": "WARNING", "metric_path": "rtt.webserver01",
                                          "text": "RECOVERED: webserver01 - rtt.webserver01 = 45.2 (WARNING -> OK)"}}])
    assert receiver.requests[0]["path"] == "/hooks/abc"
    assert receiver.json_bodies() == [{"text": "RECOVERED: webserver01 - rtt.webserver01 = 45.2 (WARNING -> OK)",
                                       "channel": "ops", "username": "heartbeat"}]


def test_signal_posts_to_v2_send(receiver):
    config = {"notifiers": {"sig": {"type": "signal", "url": receiver.url + "/", "number": "+15550001",
                                    "recipients": ["+15550002", "+15550003"]}}}
    run_driver(config, [alert("mailserver", "cpu_monitor.load_1min", "WARNING", 12.5)])
    assert receiver.requests[0]["path"] == "/v2/send"
    assert receiver.json_bodies() == [{"message": "WARNING: mailserver - cpu_monitor.load_1min = 12.5",
                                       "number": "+15550001", "recipients": ["+15550002", "+15550003"]}]


def test_webhook_is_signed_and_carries_headers(receiver):
    config = {"notifiers": {"hook": {"type": "webhook", "url": receiver.url + "/in", "secret": "s3cr3t-key",
                                     "headers": {"X-Team": "ops"}}}}
    run_driver(config, [alert("web01", "disk_monitor./.percent", "CRITICAL", 91.0)])
    r = receiver.requests[0]
    expected = hmac.new(b"s3cr3t-key", r["body"], hashlib.sha256).hexdigest()
    assert r["headers"]["X-Heartbeat-Signature"] == "sha256=" + expected
    assert r["headers"]["X-Team"] == "ops"
    body = receiver.json_bodies()[0]
    assert body["host"] == "web01"
    assert body["metric_path"] == "disk_monitor./.percent"
    assert body["level"] == "CRITICAL"
    assert body["value"] == 91.0
    assert body["text"] == "CRITICAL: web01 - disk_monitor./.percent = 91.0"


def test_pushsrv_selects_the_push_service(receiver):
    other = Receiver()
    try:
        config = {"pushsrv": "mattermost",
                  "notifiers": {"push": {"type": "pushover", "token": "t", "user": "u", "url": other.url + "/p"},
                                "mm": {"type": "mattermost", "url": receiver.url + "/hooks/x"}}}
        run_driver(config, [alert("web01", "cpu_monitor.cpu_percent")])
        assert len(receiver.requests) == 1
        assert other.requests == []
    finally:
        other.close()


def test_email_with_starttls_and_auth(tmp_path):
    import ssl
    import subprocess

    from aiosmtpd.smtp import AuthResult

    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"hbd" and auth_data.password == b"pa55word")

    smtp = SmtpSink(tls_context=ctx, require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    try:
        config = {"notifiers": {"mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                         "smtp_tls": "starttls", "username": "hbd", "password": "pa55word",
                                         "ca_file": cert, "from": "hbd@example.com", "to": ["ops@example.com"]}}}
        journal, _ = run_driver(config, [alert("web01", "cpu_monitor.cpu_percent", "WARNING", 85.0)])
        assert logins == [(b"hbd", b"pa55word")]
        assert len(smtp.messages) == 1
        assert "Subject: WARNING: web01 - cpu_monitor.cpu_percent = 85.0" in smtp.messages[0]["data"]
        assert "pa55word" not in json.dumps(journal)

    finally:
        smtp.close()


def test_starttls_required_but_not_offered_fails_without_retries(smtp):
    config = {"notifiers": {"mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_tls": "starttls", "username": "hbd", "password": "top-secret",
                                     "from": "hbd@example.com", "to": ["ops@example.com"]}}}
    journal, metrics = run_driver(config, [alert("web01", "cpu_monitor.cpu_percent", "CRITICAL", 95.0)])
    assert [r["result"] for r in journal] == ["failed"]
    assert journal[0]["reason"] == "unrecoverable"
    assert "top-secret" not in json.dumps(journal)
    assert smtp.messages == []


def test_email_lines_starting_with_a_dot_arrive_unchanged(smtp):
    # SMTP ends a mail at a line holding only "."; libcurl dot-stuffs the upload and the server
    # removes the stuffing, so what the text says is what the mailbox shows: one dot, or two.
    config = {"notifiers": {"mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_tls": "none", "from": "hbd@example.com", "to": ["ops@example.com"]}}}
    text = "CRITICAL: web01 - disk\n.hidden starts with one dot\n..two dots\n.\nafter a lone dot"
    journal, _ = run_driver(config, [alert("web01", "disk_monitor.used", "CRITICAL", 99.0, text=text)])
    assert [r["result"] for r in journal] == ["sent"]
    body = smtp.messages[0]["data"].replace("\r\n", "\n")
    body_lines = body.split("\n\n", 1)[1].split("\n")
    assert body_lines[:5] == ["CRITICAL: web01 - disk", ".hidden starts with one dot", "..two dots", ".",
                              "after a lone dot"]
