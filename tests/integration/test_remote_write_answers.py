"""Remote write against a receiver that answers badly (a local HTTP server standing in for a
misbehaving target): 400 drops the batch, counted and logged, and it is never sent again; 429 waits
for Retry-After and 503 backs off, then the same batch goes again, byte for byte; a connection reset
is retried; a slow receiver delays nothing in hbd. Every outcome is counted in /metrics."""

import base64
import subprocess
import time

from hbtest import Client, Hbd
from remote_write_support import Receiver


def config(url, **extra):
    return {"remote_write": [dict({"name": "rx", "url": url, "flush_interval": 0.2}, **extra)]}


def metric(hbd, name, **labels):
    return hbd.metric(name, target="rx", **labels) or 0


def requests(hbd, result):
    return metric(hbd, "heartbeat_remote_write_requests_total", result=result)


def send_plg(hbd, values, name="web01"):
    """One PLG with `values` leaves from a host hbd has not heard of (its state, UNKNOWN, is written too,
    in the same batch or the next); returns the number of plugin samples."""
    with Client(name, hbd.hb_port) as c:
        c.plg("p", {f"v{i}": i for i in range(values)}, ts=time.time())
    return values


def sent(hbd):
    return metric(hbd, "heartbeat_remote_write_samples_sent_total")


def settled(hbd):
    """Nothing waits any more: queue, memory and spool are empty."""
    return hbd.wait_for(lambda: (metric(hbd, "heartbeat_remote_write_queue_depth"),
                                 metric(hbd, "heartbeat_remote_write_pending_samples"),
                                 metric(hbd, "heartbeat_remote_write_spool_samples")), 15, "everything sent",
                        ok=lambda v: v == (0, 0, 0))


def test_400_drops_the_batch_counted_and_logged(tmp_path):
    with Receiver([400]) as rx, Hbd(config(rx.write_url, headers={"X-Scope-OrgID": "ops"},
                                           basic_auth={"username": "u", "password": "p4ss"})) as hbd:
        n = send_plg(hbd, 3)
        hbd.wait_for(lambda: metric(hbd, "heartbeat_remote_write_samples_dropped_total", reason="rejected"), 10,
                     "the refused batch counted", ok=lambda v: v >= n)
        hbd.wait_log("HTTP 400 (refused with 400): dropped ")
        send_plg(hbd, 2, name="web02")
        hbd.wait_for(lambda: sent(hbd), 10, "the next batch sent", ok=lambda v: v >= 2)
        settled(hbd)
        assert requests(hbd, "client_error") == 1
        seen = rx.seen()
        assert len(seen) >= 2 and seen[0][2] not in [body for _, _, body, _ in seen[1:]]  # never sent again
        _, headers, _, _ = seen[0]
        h = {k.lower(): v for k, v in headers.items()}
        assert h["content-encoding"] == "snappy"
        assert h["content-type"] == "application/x-protobuf"
        assert h["x-prometheus-remote-write-version"] == "0.1.0"
        assert h["user-agent"].startswith("heartbeat/")
        assert h["x-scope-orgid"] == "ops"
        assert h["authorization"] == "Basic " + base64.b64encode(b"u:p4ss").decode()
        assert "p4ss" not in hbd.log()
        assert metric(hbd, "heartbeat_remote_write_samples_failed_total") == 0


def test_429_waits_for_retry_after_then_sends_the_same_batch(tmp_path):
    with Receiver([(429, 2)]) as rx, Hbd(config(rx.write_url, bearer_token="s3cret-token")) as hbd:
        n = send_plg(hbd, 4)
        hbd.wait_for(lambda: sent(hbd), 10, "sent after the wait", ok=lambda v: v >= n)
        settled(hbd)
        seen = rx.seen()
        assert len(seen) >= 2
        assert seen[1][0] - seen[0][0] >= 1.9, "retried before Retry-After"
        assert seen[0][2] == seen[1][2]
        assert {k.lower(): v for k, v in seen[0][1].items()}["authorization"] == "Bearer s3cret-token"
        assert requests(hbd, "rate_limited") == 1
        first = metric(hbd, "heartbeat_remote_write_samples_failed_total")  # the samples of the first batch
        assert n <= first <= sent(hbd)
        assert metric(hbd, "heartbeat_remote_write_samples_dropped_total", reason="rejected") == 0
        assert "s3cret-token" not in hbd.log()


def test_503_is_retried_with_backoff(tmp_path):
    with Receiver([503, 503, 503]) as rx, Hbd(config(rx.write_url)) as hbd:
        n = send_plg(hbd, 5)
        hbd.wait_for(lambda: sent(hbd), 15, "sent at the 4th try", ok=lambda v: v >= n)
        settled(hbd)
        seen = rx.seen()
        assert len(seen) >= 4
        assert len({body for _, _, body, _ in seen[:4]}) == 1  # the same batch each time
        gaps = [b[0] - a[0] for a, b in zip(seen[:4], seen[1:4])]
        assert gaps[0] >= 0.2 and gaps[1] >= gaps[0] * 1.5 and gaps[2] >= gaps[1] * 1.5, gaps
        assert requests(hbd, "server_error") == 3
        assert metric(hbd, "heartbeat_remote_write_samples_failed_total") >= 3 * n
        assert metric(hbd, "heartbeat_remote_write_spool_bytes") == 0  # sent from the spool, nothing left


def test_a_connection_reset_is_retried(tmp_path):
    with Receiver(["reset", "reset"]) as rx, Hbd(config(rx.write_url)) as hbd:
        n = send_plg(hbd, 2)
        hbd.wait_for(lambda: sent(hbd), 15, "sent after resets", ok=lambda v: v >= n)
        settled(hbd)
        seen = rx.seen()
        assert len(seen) >= 3 and len({body for _, _, body, _ in seen[:3]}) == 1
        assert requests(hbd, "connection_error") == 2
        assert metric(hbd, "heartbeat_remote_write_samples_failed_total") >= 2 * n


def test_a_slow_receiver_delays_nothing_in_hbd(tmp_path):
    with Receiver([("slow", 2), ("slow", 2)]) as rx, Hbd(config(rx.write_url)) as hbd:
        c = Client("web01", hbd.hb_port)
        slowest = 0.0
        t_end = time.time() + 4
        total = 0
        while time.time() < t_end:
            t0 = time.time()
            c.heartbeat(interval=30, rtt=1.0)
            slowest = max(slowest, time.time() - t0)
            c.plg("p", {"a": 1, "b": 2}, ts=time.time())
            total += 2
            time.sleep(0.05)
        c.close()
        assert slowest < 1.0, f"an ACK took {slowest:.2f} s while the receiver took 2 s per request"
        settled(hbd)
        assert requests(hbd, "ok") >= 3
        assert metric(hbd, "heartbeat_remote_write_samples_failed_total") == 0
        assert metric(hbd, "heartbeat_remote_write_queue_dropped_total") == 0
        for reason in ("rejected", "out_of_order", "spool_full", "spool_error"):
            assert metric(hbd, "heartbeat_remote_write_samples_dropped_total", reason=reason) == 0, reason
        # Every PLG sample arrived (besides the host's own series).
        assert sent(hbd) >= total


def test_a_full_spool_drops_its_oldest_samples_counted(tmp_path):
    with Receiver(default=503) as rx, Hbd(config(rx.write_url, spool_max_bytes=65536)) as hbd:
        with Client("web01", hbd.hb_port) as c:
            for k in range(40):
                # Values that do not compress away: about 10 bytes a sample on disk.
                c.plg("p", {f"m{i}": (k * 7919 + i * 104729) % 1000003 / 7.0 for i in range(400)},
                      ts=time.time())
                time.sleep(0.02)
        hbd.wait_for(lambda: metric(hbd, "heartbeat_remote_write_samples_dropped_total", reason="spool_full"), 15,
                     "oldest spooled samples dropped", ok=lambda v: v > 0)
        assert metric(hbd, "heartbeat_remote_write_spool_bytes") <= 65536
        rx.default = 204
        settled(hbd)
        dropped = metric(hbd, "heartbeat_remote_write_samples_dropped_total", reason="spool_full")
        assert sent(hbd) + dropped >= 40 * 400
        assert sent(hbd) > 0


def test_targets_change_on_sighup_and_check_config_reports_errors(tmp_path):
    with Receiver() as rx, Hbd() as hbd:
        assert hbd.metric("heartbeat_remote_write_samples_sent_total", target="rx") is None
        cfg = dict(hbd.config, **config(rx.write_url))
        hbd.write_config(cfg)
        hbd.sighup()
        hbd.wait_log("remote_write: 1 targets after reload")
        send_plg(hbd, 2)
        hbd.wait_for(lambda: sent(hbd), 10, "samples sent after the reload", ok=lambda v: v >= 2)

        bad = dict(cfg, remote_write=[{"name": "rx", "url": "ftp://nowhere", "flush_interval": "soon"}])
        hbd.write_config(bad)
        r = subprocess.run([hbd.binary, "check-config", "-c", hbd.config_path], capture_output=True, text=True)
        assert r.returncode == 2
        out = r.stdout + r.stderr
        assert "remote_write.0.url: must be an http:// or https:// URL" in out
        assert "remote_write.0.flush_interval" in out
        hbd.sighup()  # a bad file changes nothing: the target keeps its sender
        hbd.wait_log("keeping the running configuration")
        send_plg(hbd, 3, name="web02")
        hbd.wait_for(lambda: sent(hbd), 10, "still sending", ok=lambda v: v >= 5)
