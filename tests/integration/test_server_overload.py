"""hbd's own stall is never a host's DOWN: hbd is stopped (SIGSTOP) for longer than
interval + grace while one host keeps sending heartbeats into its socket buffer and
another falls silent; after SIGCONT only the silent one goes DOWN (webhook), the sending
one's metric is not declared missing (UNKNOWN) either, and /metrics counts the backlog that
held the decisions back."""
import signal
import threading
import time

from hbtest import Client, Hbd
from notify_support import Receiver


def test_a_stall_longer_than_grace_turns_no_sending_host_down():
    hook = Receiver()
    try:
        config = {
            "interval": 1,
            "grace": 1,
            "notifiers": {"hook": {"type": "webhook", "url": hook.url + "/hb"}},
            "notify": {"retry_initial": 0.2},
            "threshold_missing_after": 2,
            "thresholds": {"cpu_monitor": {"cpu_percent": {"warning": 80}}},
        }
        with Hbd(config) as hbd:
            steady = Client("steady01", hbd.hb_port)
            gone = Client("gone01", hbd.hb_port)
            stop = threading.Event()

            def keep_sending():
                while not stop.is_set():
                    steady.htb(interval=1)
                    steady.plg("cpu_monitor", {"cpu_percent": 10})
                    time.sleep(0.2)

            sender = threading.Thread(target=keep_sending, daemon=True)
            sender.start()
            try:
                gone.htb(interval=1)
                hbd.wait_host_state("steady01", "UP")
                hbd.wait_host_state("gone01", "UP")
                time.sleep(0.5)
                gone.htb(interval=1)  # its last heartbeat
                hbd.proc.send_signal(signal.SIGSTOP)
                try:
                    time.sleep(4)  # twice interval + grace
                finally:
                    hbd.proc.send_signal(signal.SIGCONT)
                hbd.wait_for(lambda: any(b.get("text", "").startswith("DOWN: gone01") for b in hook.json_bodies()),
                             timeout=15, what="gone01's DOWN webhook")
                time.sleep(2)  # room for a wrong DOWN of steady01 to be delivered
            finally:
                stop.set()
                sender.join()
            texts = [b.get("text", "") for b in hook.json_bodies()]
            assert not [t for t in texts if "steady01" in t], texts
            assert hbd.host("steady01")["state"] == "UP"
            assert not [m for m in hbd.messages() if m.get("host") == "steady01" and "DOWN" in m.get("text", "")]
            # The stall is counted; whether the monitor's tick or the receive loop ran first
            # after SIGCONT decides whether a backlog held the decisions back.
            assert hbd.metric("heartbeat_io_stalls_total") >= 1
            assert hbd.metric("heartbeat_io_stall_max_seconds") >= 3
            assert hbd.metric("heartbeat_liveness_deferred_total") is not None
            assert "io thread stalled for" in hbd.log()
            steady.close()
            gone.close()
    finally:
        hook.close()
