"""Remote write while the target is down: VictoriaMetrics stopped for 30 s while samples keep
arriving, then started again: every sample of the gap is there, once, at its own timestamp, and hbd
went on answering heartbeats meanwhile. hbd killed with SIGKILL during an outage and started again:
what it had spooled arrives once the target is back."""

import os
import threading
import time

from hbtest import Client, Hbd, ms
from remote_write_support import VictoriaMetrics

OUTAGE = 30  # seconds


def rw_target(url):
    return {"name": "vm", "url": url, "flush_interval": 0.2}


def metric(hbd, name, **labels):
    return hbd.metric(name, target="vm", **labels) or 0


class Feeder(threading.Thread):
    """Sends a numbered PLG every 0.1 s (value n at its own ts) and an HTB every second, waiting for
    each ACK, until stopped. Remembers what it sent and the slowest ACK."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.client = Client("feeder", port)
        self.sent = []  # (ts in ms, n)
        self.slowest_ack = 0.0
        self.error = None
        self.halt = threading.Event()

    def run(self):
        n = 0
        last_htb = 0.0
        try:
            while not self.halt.is_set():
                now = time.time()
                if now - last_htb >= 1:
                    t0 = time.time()
                    self.client.heartbeat(interval=30)
                    self.slowest_ack = max(self.slowest_ack, time.time() - t0)
                    last_htb = now
                ts = time.time()
                self.client.plg("counter", {"n": n}, ts=ts)
                self.sent.append((ms(ts), n))
                n += 1
                self.halt.wait(0.1)
        except Exception as e:  # reported by the test
            self.error = e

    def stop(self):
        self.halt.set()
        self.join(10)
        self.client.close()


def counter_samples(vm):
    series = vm.export('{__name__="heartbeat_plugin_value",plugin="counter"}')
    if not series:
        return []
    assert len(series) == 1
    return list(zip(series[0]["timestamps"], series[0]["values"]))


def test_a_30s_outage_loses_nothing_and_duplicates_nothing(tmp_path):
    with VictoriaMetrics(str(tmp_path)) as vm, Hbd({"remote_write": [rw_target(vm.write_url)]}) as hbd:
        feeder = Feeder(hbd.hb_port)
        feeder.start()
        try:
            hbd.wait_for(lambda: metric(hbd, "heartbeat_remote_write_samples_sent_total"), 10, "samples sent",
                         ok=lambda n: n >= 20)
            vm.stop()
            down_since = time.time()
            # While it is down, batches go to the spool on disk.
            hbd.wait_for(lambda: metric(hbd, "heartbeat_remote_write_spool_samples"), 10, "samples spooled",
                         ok=lambda n: n > 0)
            assert metric(hbd, "heartbeat_remote_write_requests_total", result="connection_error") > 0
            spool_dir = os.path.join(hbd.dir, "remote_write", "vm")
            assert any(f.endswith(".seg") for f in os.listdir(spool_dir))
            time.sleep(max(0.0, OUTAGE - (time.time() - down_since)))
            vm.start()
            up_again = time.time()
            time.sleep(2)
        finally:
            feeder.stop()
        assert feeder.error is None, feeder.error
        assert feeder.slowest_ack < 1.5, f"an ACK took {feeder.slowest_ack:.2f} s during the outage"
        gap = [s for s in feeder.sent if down_since * 1000 <= s[0] <= up_again * 1000]
        assert len(gap) > OUTAGE * 5

        want = [(ts, float(n)) for ts, n in feeder.sent]
        hbd.wait_for(lambda: (metric(hbd, "heartbeat_remote_write_spool_samples"),
                              metric(hbd, "heartbeat_remote_write_pending_samples")), 20,
                     "the spool sent", ok=lambda v: v == (0, 0))
        got = hbd.wait_for(lambda: counter_samples(vm), 20, "every sample in VictoriaMetrics",
                           ok=lambda g: len(g) >= len(want))
        assert got == want  # each once, in order, at its own timestamp
        for reason in ("rejected", "out_of_order", "spool_full", "spool_error"):
            assert metric(hbd, "heartbeat_remote_write_samples_dropped_total", reason=reason) == 0, reason
        assert metric(hbd, "heartbeat_remote_write_queue_dropped_total") == 0
        assert "the target answers again" in hbd.log()


def test_kill9_during_an_outage_then_the_spool_arrives(tmp_path):
    vm = VictoriaMetrics(str(tmp_path))  # not started yet: the target is down
    hbd = Hbd({"remote_write": [rw_target(vm.write_url)]})
    try:
        hbd.start()
        c = Client("web01", hbd.hb_port)
        base = time.time() - 10
        for n in range(20):
            c.plg("counter", {"n": n}, ts=base + n * 0.25)
        hbd.wait_for(lambda: metric(hbd, "heartbeat_remote_write_spool_samples"), 10, "20 samples spooled",
                     ok=lambda v: v >= 20)
        hbd.kill9()
        hbd.start()
        assert "spooled by an earlier run will be sent first" in hbd.log()
        c.plg("counter", {"n": 20}, ts=base + 20 * 0.25)  # after the restart, behind the spool
        vm.start()
        want = [(ms(base + n * 0.25), float(n)) for n in range(21)]
        got = hbd.wait_for(lambda: counter_samples(vm), 20, "the spooled samples in VictoriaMetrics",
                           ok=lambda g: len(g) >= len(want))
        assert got == want
        hbd.wait_for(lambda: metric(hbd, "heartbeat_remote_write_spool_bytes"), 10, "an empty spool",
                     ok=lambda v: v == 0)
        c.close()
    finally:
        hbd.cleanup()
        vm.stop()
