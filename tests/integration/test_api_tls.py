"""HTTPS and WSS on wss_port with a self-signed certificate made by `openssl`; a missing
certificate stops hbd at start-up with a clear message and exit status 2."""

import os
import subprocess

import pytest

from api_helpers import WebSocket, host_event_after_heartbeat, login, request, tls_client_context, users_config
from hbtest import Hbd, free_port


def make_cert(d):
    cert, key = os.path.join(d, "fullchain.pem"), os.path.join(d, "privkey.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def test_https_and_wss(tmp_path):
    cert, _ = make_cert(str(tmp_path))
    wss = free_port("tcp")
    cfg = {"wss_port": wss, "cert_path": str(tmp_path), "users": users_config(alice=True),
           "hosts": {"web1": {"owner": "alice"}}}
    with Hbd(cfg) as h:
        ctx = tls_client_context(cert)
        st, _, _, body = request(wss, "GET", "/healthz", tls_context=ctx)
        assert st == 200 and body == {"status": "ok"}
        st, headers, _, _ = request(wss, "POST", "/api/0/auth/login", {"username": "alice", "password": "secret123"},
                                    tls_context=ctx)
        assert st == 200
        assert all("Secure" in c for k, c in headers if k.lower() == "set-cookie")
        tok = login(wss, "alice", tls_context=ctx)[0]
        assert request(wss, "GET", "/api/0/hosts", token=tok, tls_context=ctx)[3][0]["name"] == "web1"
        ws = WebSocket(wss, f"/hbd?token={tok}", tls_context=ctx)
        try:
            m = host_event_after_heartbeat(ws, h.hb_port, "web1")
            assert m["data"]["name"] == "web1"
        finally:
            ws.close()
        # plain HTTP keeps working beside it
        assert request(h.hbd_port, "GET", "/healthz")[0] == 200


def test_missing_certificate_is_a_startup_error(tmp_path):
    cfg = {"wss_port": free_port("tcp"), "cert_path": str(tmp_path / "nowhere")}
    h = Hbd(cfg)
    try:
        with pytest.raises(RuntimeError) as e:
            h.start(timeout=10)
        assert h.proc.returncode == 2
        assert "certificate" in str(e.value) and "nowhere" in str(e.value)
    finally:
        h.cleanup()
