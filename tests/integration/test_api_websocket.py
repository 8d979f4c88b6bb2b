"""The WebSocket stream of a real hbd: ws_port/hbd and hbd_port/ws deliver {"type","data"} messages
after an HTB, a PLG and a MSG; authentication by cookie or ?token=; each client only sees hosts it
holds a role on; logout closes the stream."""

import socket
import time

import pytest

from api_helpers import WebSocket, host_event_after_heartbeat, login, users_config
from hbtest import Client, Hbd


@pytest.fixture(scope="module")
def hbd():
    cfg = {
        "users": users_config(alice=True, mona=False, carl=False),
        "hosts": {"web1": {"owner": "alice", "monitors": ["mona"]}, "db1": {"owner": "alice"}},
    }
    with Hbd(cfg) as h:
        yield h


def events_for(ws, host, timeout=1.0):
    return [m for m in ws.drain(timeout) if (m["data"].get("name") or m["data"].get("host")) == host]


def test_requires_authentication(hbd):
    for port, path in ((hbd.ws_port, "/hbd"), (hbd.hbd_port, "/ws")):
        with pytest.raises(PermissionError) as e:
            WebSocket(port, path)
        assert e.value.args[0] == 401
    with pytest.raises(PermissionError):
        WebSocket(hbd.ws_port, "/hbd?token=" + "0" * 64)
    with pytest.raises(PermissionError) as e:
        WebSocket(hbd.ws_port, "/other")
    assert e.value.args[0] == 404


def test_delivery_and_role_filtering(hbd):
    tok_mona = login(hbd.hbd_port, "mona")[0]
    tok_carl = login(hbd.hbd_port, "carl")[0]
    _, alice_cookies, _ = login(hbd.hbd_port, "alice")
    mona = WebSocket(hbd.ws_port, f"/hbd?token={tok_mona}")
    carl = WebSocket(hbd.ws_port, f"/hbd?token={tok_carl}")
    alice = WebSocket(hbd.hbd_port, "/ws", headers={"Cookie": f"hb_session={alice_cookies['hb_session']}"})
    try:
        with Client("web1", hbd.hb_port) as c, Client("db1", hbd.hb_port) as d:
            c.heartbeat(rtt=2.0)
            d.heartbeat()
            c.plg("cpu_monitor", {"cpu_percent": 7})
            c.msg("hello")
            got = mona.messages_until(lambda m: m["type"] == "message" and m["data"].get("msg") == "hello", timeout=5)
            types = {m["type"] for m in got}
            assert {"host", "plugin", "message"} <= types, got
            host_msgs = [m for m in got if m["type"] == "host"]
            assert host_msgs[0]["data"]["name"] == "web1" and host_msgs[0]["data"]["state"] == "UP"
            plg = [m for m in got if m["type"] == "plugin"][0]["data"]
            assert plg["host"] == "web1" and plg["plugin"] == "cpu_monitor" and plg["data"] == {"cpu_percent": 7}
            assert "timestamp" in plg
            # mona never sees db1; alice (admin, cookie on /ws) sees both; carl sees neither
            rest = mona.drain(0.5)
            assert all((m["data"].get("name") or m["data"].get("host")) != "db1" for m in got + rest)
            seen_alice = alice.messages_until(lambda m: m["data"].get("name") == "db1", timeout=5)
            assert any(m["data"].get("name") == "web1" or m["data"].get("host") == "web1" for m in seen_alice + alice.drain(0.3))
            assert carl.drain(0.5) == []
    finally:
        for ws in (mona, carl, alice):
            ws.close()


def test_logout_closes_stream(hbd):
    tok = login(hbd.hbd_port, "mona")[0]
    ws = WebSocket(hbd.ws_port, f"/hbd?token={tok}")
    from api_helpers import request
    assert request(hbd.hbd_port, "POST", "/api/0/auth/logout", token=tok)[0] == 200
    with Client("web1", hbd.hb_port) as c:
        c.heartbeat()
    with pytest.raises((ConnectionError, socket.timeout, TimeoutError, OSError)):
        for _ in range(20):
            ws.recv_json(timeout=0.5)
    ws.close()


def test_open_mode_stream_and_ping():
    with Hbd({"hosts": {"web1": {}}}) as h:
        ws = WebSocket(h.ws_port, "/hbd")
        try:
            ws.send_frame(9, b"hi")  # ping
            op, payload = ws.recv_frame(timeout=3)
            assert op == 10 and payload == b"hi"  # pong
            m = host_event_after_heartbeat(ws, h.hb_port, "web1")
            assert m["data"]["name"] == "web1"
        finally:
            ws.close()
        # the server keeps running after the client closed (and has noticed the close)
        h.wait_for(lambda: h.metric("heartbeat_websocket_clients"), 5, "the closed stream unregistered",
                   ok=lambda n: n == 0)
        assert h.running()


def test_slow_client_is_dropped_and_others_keep_receiving():
    with Hbd({"hosts": {"web1": {}}}) as h:
        slow = WebSocket(h.ws_port, "/hbd")
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and never read
        fast = WebSocket(h.ws_port, "/hbd")
        try:
            big = {"blob": "x" * 400000}  # ~400 KB per event, sent compressed over UDP
            with Client("web1", h.hb_port) as c:
                c.heartbeat()
                for i in range(40):
                    c.plg("big", dict(big, i=i), compress=True)
                    fast.drain(0.02)
                    time.sleep(0.01)  # paces the events: the fast client keeps up, only the slow one falls behind

                def dropped():
                    from api_helpers import request
                    text = request(h.hbd_port, "GET", "/metrics")[2].decode()
                    return "heartbeat_websocket_slow_clients_dropped_total 1" in text
                h.wait_for(dropped, 10, "slow client dropped")
                c.plg("small", {"v": 1})
                fast.messages_until(lambda m: m["type"] == "plugin" and m["data"]["plugin"] == "small", timeout=5)
            assert "dropped" in h.log()
        finally:
            slow.close()
            fast.close()
