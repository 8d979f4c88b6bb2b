"""hbd host state over the real protocol: ACK, request_update, UP/LATE/DOWN/STOPPED,
recovery, configured hosts that never report, loss, reboots, clock skew, IPv6."""

import time

import pytest

from hbtest import Client, Hbd, has_ipv6

FAST = {"interval": 1, "grace": 2}


def test_ack_echoes_seq_and_ts_and_asks_for_plugins_until_one_arrives():
    with Hbd(FAST) as hbd:
        c = Client("web01", hbd.hb_port)
        ts = time.time()
        ack = c.heartbeat(interval=30, ts=ts, rtt=1.5)
        assert ack["ID"] == "ACK"
        assert ack["seq"] == 1
        assert abs(ack["ts"] - ts) < 0.01
        assert abs(ack["server_ts"] - time.time()) < 5
        assert ack["request_update"] == 1  # no PLG since this server started
        assert ack["_authenticated"] is False

        c.plg("cpu_monitor", {"cpu_percent": 12.5, "load_1min": 0.4})
        ack = hbd.wait_for(lambda: (lambda a: a if a["request_update"] == 0 else None)(c.heartbeat()), 5,
                           "request_update 0 after a PLG")
        assert ack["seq"] >= 2

        h = hbd.wait_host_state("web01", "UP")
        assert h["ver"] == 1
        assert h["agent"] == "hbtest/1.0"
        assert "cpu_monitor" in h["plugins"]
        (conn,) = h["connections"]
        assert conn["family"] == "ipv4"
        assert conn["address"] == "127.0.0.1"
        assert conn["port"] == c.sock.getsockname()[1]
        assert conn["state"] == "UP"
        assert conn["seq"] == c.seq
        assert conn["lost"] == 0


def test_late_then_down_after_interval_plus_grace_then_recovery():
    with Hbd(FAST) as hbd:
        c = Client("web02", hbd.hb_port)
        c.heartbeat(interval=1)
        t0 = time.time()
        hbd.wait_host_state("web02", "UP", 2)
        hbd.wait_host_state("web02", "LATE", 3)
        late_at = time.time() - t0
        assert late_at >= 1.0
        h = hbd.wait_host_state("web02", "DOWN", 5)
        down_at = time.time() - t0
        assert down_at >= 3.0  # interval 1 + grace 2
        assert h["connections"][0]["state"] == "DOWN"
        msgs = hbd.messages()
        assert any(m["host"] == "web02" and m["msg"].startswith("DOWN") for m in msgs)

        c.heartbeat(interval=1)
        hbd.wait_host_state("web02", "UP", 2)
        msgs = hbd.messages()
        assert any(m["host"] == "web02" and m["msg"].startswith("UP") and "was down" in m["msg"] for m in msgs)


def test_shutdown_message_stops_the_host_without_a_down_and_next_heartbeat_is_back():
    with Hbd(FAST) as hbd:
        c = Client("web03", hbd.hb_port)
        c.heartbeat(interval=1)
        hbd.wait_host_state("web03", "UP")
        c.msg("going down for maintenance", event="shutdown")
        hbd.wait_host_state("web03", "STOPPED", 2)
        # Past interval + grace: a control host that fell silent after web03 goes DOWN; web03 stays STOPPED.
        Client("control03", hbd.hb_port).heartbeat(interval=1)
        hbd.wait_host_state("control03", "DOWN", 10)
        assert hbd.host("web03")["state"] == "STOPPED"
        assert not any(m["host"] == "web03" and m["msg"].startswith("DOWN") for m in hbd.messages())

        c.heartbeat(interval=1)
        hbd.wait_host_state("web03", "UP", 2)
        msgs = [m for m in hbd.messages() if m["host"] == "web03"]
        texts = [m["msg"] for m in msgs]
        assert "going down for maintenance" in texts
        assert "back from planned stop" in texts
        assert [m for m in msgs if m["msg"] == "going down for maintenance"][0]["event"] == "shutdown"


def test_configured_host_is_unknown_until_it_reports_and_down_if_it_never_does():
    with Hbd({"interval": 1, "grace": 1, "hosts": {"db01": {}, "db02": {}}}) as hbd:
        names = {h["name"]: h for h in hbd.hosts()}
        assert names["db01"]["state"] == "UNKNOWN"
        assert names["db01"]["connections"] == []
        Client("db02", hbd.hb_port).heartbeat(interval=30)
        hbd.wait_host_state("db01", "DOWN", 5)
        assert hbd.host("db02")["state"] == "UP"


def test_sequence_gaps_count_as_lost_and_a_new_boot_time_is_a_reboot():
    with Hbd(FAST) as hbd:
        c = Client("web04", hbd.hb_port)
        boot = time.time() - 1000
        c.heartbeat(seq=1, boot_time=boot)
        c.heartbeat(seq=2, boot_time=boot)
        c.heartbeat(seq=5, boot_time=boot)  # 3 and 4 lost
        h = hbd.wait_for(lambda: (lambda h: h if h and h["connections"][0]["seq"] == 5 else None)(hbd.host("web04")))
        assert h["connections"][0]["lost"] == 2
        assert h["loss"] == pytest.approx(2 / 5, abs=1e-3)
        assert h["reboots"] == 0
        c.heartbeat(seq=1, boot_time=time.time() - 10)
        h = hbd.wait_for(lambda: (lambda h: h if h["reboots"] == 1 else None)(hbd.host("web04")), 3, "reboot")
        assert h["state"] == "UP"
        assert any(m["host"] == "web04" and m["event"] == "reboot" for m in hbd.messages())


def test_clock_skew_is_measured_from_the_sender_ts():
    with Hbd(FAST) as hbd:
        c = Client("web05", hbd.hb_port)
        c.heartbeat(ts=time.time() + 42)
        h = hbd.wait_for(lambda: hbd.host("web05"))
        assert h["clock_skew"] == pytest.approx(42, abs=1.0)


def test_messages_ring_keeps_the_last_30():
    with Hbd(FAST) as hbd:
        c = Client("chatty", hbd.hb_port)
        for i in range(40):
            c.msg(f"note {i}")
        msgs = hbd.wait_for(lambda: (lambda m: m if m and m[-1]["msg"] == "note 39" else None)(hbd.messages()))
        assert len(msgs) == 30
        assert msgs[0]["msg"] == "note 10"
        assert set(msgs[0]) >= {"time", "host", "msg"}


@pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")
def test_ipv6_connection_on_loopback_is_its_own_connection():
    with Hbd(FAST) as hbd:
        v4 = Client("dual", hbd.hb_port)
        v6 = Client("dual", hbd.hb_port, host="::1")
        v4.heartbeat(interval=1)
        ack = v6.heartbeat(interval=30)
        assert ack["ID"] == "ACK"
        h = hbd.wait_for(lambda: (lambda h: h if h and len(h["connections"]) == 2 else None)(hbd.host("dual")))
        fams = {c["family"]: c for c in h["connections"]}
        assert fams["ipv6"]["address"] == "::1"
        assert fams["ipv4"]["address"] == "127.0.0.1"
        # IPv4 stops: its connection goes DOWN, the host stays UP through IPv6.
        h = hbd.wait_for(lambda: (lambda h: h if {c["family"]: c["state"] for c in h["connections"]}["ipv4"] == "DOWN"
                                  else None)(hbd.host("dual")), 6, "ipv4 connection DOWN")
        assert h["state"] == "UP"
