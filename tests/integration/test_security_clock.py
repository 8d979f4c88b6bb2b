"""Liveness runs on the monotonic clock: the real hbd under libfaketime, whose wall clock
is stepped 2 h forward and 2 h back (a timestamp file re-read at run time) while its
monotonic clock runs on and hosts keep heartbeating. No host changes state and the
webhook receiver hears nothing new: no DOWN, no reminder, no missing-data UNKNOWN. With
the clock set back, a host that falls silent still goes DOWN on time."""

import json
import os
import threading
import time

import pytest

from hbtest import Client, Hbd, wait_until
from notify_support import Receiver

LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


@pytest.mark.skipif(not os.path.exists(LIB), reason="libfaketime (Debian package faketime) is not installed")
def test_wall_clock_steps_move_no_host_and_notify_nobody(tmp_path):
    rc = tmp_path / "faketime.rc"
    rc.write_text("+0\n")
    env = {"LD_PRELOAD": LIB, "FAKETIME_TIMESTAMP_FILE": str(rc), "FAKETIME_NO_CACHE": "1",
           "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    hook = Receiver()
    config = {
        "interval": 2,
        "grace": 2,
        "hosts": {"web01": {}, "web02": {}},
        "thresholds": {"cpu_monitor": {"cpu_percent": {"warning": 80, "critical": 90}}},
        "threshold_renotify_interval": 600,  # a step of +2 h must not look like 10 minutes passed
        "threshold_missing_after": 60,       # ... nor like a minute without samples
        "notifiers": {"hook": {"type": "webhook", "url": hook.url + "/hb"}},
    }
    try:
        with Hbd(config, env=env) as hbd:
            clients = [Client("web01", hbd.hb_port), Client("web02", hbd.hb_port)]
            marker = Client("web02", hbd.hb_port)  # its ACKs tell which wall time hbd reads
            stop, silent, errors = threading.Event(), set(), []

            def beat():
                # Every 0.5 s: a step lands between two heartbeats, where a wall-clock monitor
                # would see 2 h of silence.
                while not stop.is_set():
                    try:
                        for c in clients:
                            if c.name not in silent:
                                c.htb(interval=2)
                                c.recv_all(0)
                        clients[0].plg("cpu_monitor", {"cpu_percent": 95.0})
                    except OSError as e:
                        errors.append(e)
                    time.sleep(0.5)

            t = threading.Thread(target=beat)
            t.start()
            try:
                hbd.wait_host_state("web01", "UP")
                hbd.wait_host_state("web02", "UP")
                hbd.wait_for(lambda: [b for b in hook.json_bodies() if b["kind"] == "alert"], 15,
                             "the CRITICAL webhook")
                baseline = len(hook.requests)
                before = {json.dumps(m, sort_keys=True) for m in hbd.messages()}

                def hbd_offset():
                    return marker.heartbeat(interval=2)["server_ts"] - time.time()

                for step, want in (("+2h", 7200), ("-2h", -7200), ("+0", 0)):
                    rc.write_text(step + "\n")
                    wait_until(hbd_offset, ok=lambda off: abs(off - want) < 120, timeout=10,
                               what=f"hbd reading the wall clock at {step}")
                    # Watch a few monitor periods (250 ms each) and alert ticks: every host stays UP.
                    seen = set()
                    deadline = time.time() + 3
                    while time.time() < deadline:
                        for h in hbd.hosts():
                            seen.add((h["name"], h["state"]))
                        time.sleep(0.1)
                    assert seen == {("web01", "UP"), ("web02", "UP")}, (step, seen)
                assert len(hook.requests) == baseline, [r["body"] for r in hook.requests[baseline:]]
                new = [m for m in hbd.messages() if json.dumps(m, sort_keys=True) not in before]
                assert not [m for m in new if m["event"] in ("state", "alert")], new
                alerts = hbd.get_json("/api/0/hosts/web01/alerts")["alerts"]
                assert [(a["metric_path"], a["level"]) for a in alerts] == [("cpu_monitor.cpu_percent", "CRITICAL")]
                assert not errors

                # Set back 2 h, web02 falls silent: DOWN after interval + grace (4 s), not 2 h later.
                rc.write_text("-2h\n")
                wait_until(hbd_offset, ok=lambda off: abs(off + 7200) < 120, timeout=10, what="the clock set back")
                silent.add("web02")
                quiet_since = time.time()
                hbd.wait_host_state("web02", "DOWN", timeout=15)
                assert time.time() - quiet_since < 10
                assert hbd.host("web01")["state"] == "UP"
            finally:
                stop.set()
                t.join()
    finally:
        hook.close()
