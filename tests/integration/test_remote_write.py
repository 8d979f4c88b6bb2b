"""Remote write into real receivers started here on loopback: PLG and HTB samples of several hosts
arrive in Debian's VictoriaMetrics with their own values and timestamps, under the series names and
labels /metrics shows plus the external labels; the same samples come back from Debian's Prometheus
(a second, independent implementation of the receiving side); alert levels and the results of
active checks are written too."""

import socket
import time
import urllib.parse

import pytest

from hbtest import Client, Hbd, ms
from remote_write_support import Prometheus, VictoriaMetrics

HOSTS = ["alpha", "beta", "gamma"]


def target(name, url, **extra):
    return dict({"name": name, "url": url, "flush_interval": 0.2, "external_labels": {"site": "fra1"}}, **extra)


def send_samples(port, base):
    """Three hosts: an HTB each and four PLGs each with their own timestamps; returns what was sent as
    {(host, metric): [(ts, value), ...]} for the plugin values."""
    sent = {}
    for i, name in enumerate(HOSTS):
        c = Client(name, port)
        c.heartbeat(interval=30, rtt=1.5 + i)
        for k in range(4):
            ts = base + k * 1.25 + i * 0.001
            data = {"load": {"1": 0.25 * k + i, "5": 1.5}, "busy": k % 2 == 0, "name": "text", "cores": [1, 2]}
            c.plg("cpu_monitor", data, ts=ts)
            for metric, value in (("load.1", 0.25 * k + i), ("load.5", 1.5), ("busy", 1.0 if k % 2 == 0 else 0.0)):
                sent.setdefault((name, metric), []).append((ms(ts), value))
        c.close()
    return sent


def metrics_series(hbd):
    """The label sets of heartbeat_plugin_value in /metrics, as frozensets of (name, value)."""
    status, _, body = hbd.http("GET", "/metrics")
    assert status == 200
    out = set()
    for line in body.decode().splitlines():
        if not line.startswith("heartbeat_plugin_value{"):
            continue
        labels = line[len("heartbeat_plugin_value{"):line.rindex("}")]
        pairs = (p.split("=", 1) for p in labels.split(","))
        out.add(frozenset((k, v.strip('"')) for k, v in pairs))
    return out


def test_plugin_and_heartbeat_samples_arrive_in_victoriametrics(tmp_path):
    with VictoriaMetrics(str(tmp_path)) as vm, \
            Hbd({"remote_write": [target("vm", vm.write_url)]}) as hbd:
        base = time.time() - 60
        sent = send_samples(hbd.hb_port, base)

        def plugin_series():
            return vm.export('{__name__="heartbeat_plugin_value"}')

        got = hbd.wait_for(plugin_series, 20, "9 plugin series in VictoriaMetrics",
                           ok=lambda s: sum(len(x["values"]) for x in s) == 36)
        seen = {}
        for s in got:
            m = s["metric"]
            assert m["site"] == "fra1" and m["plugin"] == "cpu_monitor"
            assert set(m) == {"__name__", "host", "plugin", "metric", "site"}
            seen[(m["host"], m["metric"])] = list(zip(s["timestamps"], s["values"]))
        assert seen == sent  # every value at its own timestamp, nothing else (no array leaves, no strings)

        # The series are those of /metrics (one per host and metric), plus the external label.
        from_metrics = metrics_series(hbd)
        from_vm = {frozenset((k, v) for k, v in s["metric"].items() if k not in ("__name__", "site")) for s in got}
        assert from_vm == from_metrics

        up = hbd.wait_for(lambda: vm.export('{__name__="heartbeat_host_up"}'), 10, "host_up of 3 hosts",
                          ok=lambda s: len(s) == 3)
        assert all(s["values"] == [1] for s in up)
        rtt = {s["metric"]["host"]: s["values"] for s in vm.export('{__name__="heartbeat_connection_rtt_seconds"}')}
        assert rtt == {"alpha": [0.0015], "beta": [0.0025], "gamma": [0.0035]}
        for name in ("heartbeat_host_state", "heartbeat_host_loss_ratio", "heartbeat_host_clock_skew_seconds",
                     "heartbeat_connection_up"):
            series = vm.export('{__name__="%s"}' % name)
            assert {s["metric"]["host"] for s in series} == set(HOSTS), name
        state = vm.export('{__name__="heartbeat_host_state"}')
        assert {s["metric"]["state"] for s in state} == {"UP"}

        assert hbd.metric("heartbeat_remote_write_samples_sent_total", target="vm") >= 36 + 3 * 6
        assert hbd.metric("heartbeat_remote_write_samples_dropped_total", target="vm", reason="rejected") == 0
        assert hbd.metric("heartbeat_remote_write_last_success_timestamp_seconds", target="vm") > base


def test_the_same_samples_come_back_from_prometheus(tmp_path):
    with Prometheus(str(tmp_path)) as prom, VictoriaMetrics(str(tmp_path)) as vm, \
            Hbd({"remote_write": [target("prom", prom.write_url), target("vm", vm.write_url)]}) as hbd:
        base = time.time() - 30
        sent = send_samples(hbd.hb_port, base)
        last_ts = max(ts for samples in sent.values() for ts, _ in samples) / 1000

        def at_last():
            return prom.query('heartbeat_plugin_value{plugin="cpu_monitor"}', last_ts)

        got = hbd.wait_for(at_last, 20, "9 series in Prometheus", ok=lambda r: len(r) == 9)
        for r in got:
            m = r["metric"]
            assert m["site"] == "fra1"
            samples = sent[(m["host"], m["metric"])]
            assert float(r["value"][1]) == samples[-1][1]
        # Each earlier sample at its own time, read with a range selector (raw samples).
        ranged = prom.query('heartbeat_plugin_value{metric="load.1"}[5m]', last_ts)
        assert len(ranged) == 3
        for r in ranged:
            want = [(ts / 1000, v) for ts, v in sent[(r["metric"]["host"], "load.1")]]
            assert [(float(t), float(v)) for t, v in r["values"]] == want
        up = hbd.wait_for(lambda: prom.query("heartbeat_host_up", time.time()), 10, "host_up",
                          ok=lambda r: len(r) == 3)
        assert {r["metric"]["host"] for r in up} == set(HOSTS)
        # Both targets got everything: their own counters in /metrics.
        hbd.wait_for(lambda: vm.export('{__name__="heartbeat_plugin_value"}'), 20, "the same in VictoriaMetrics",
                     ok=lambda s: sum(len(x["values"]) for x in s) == 36)
        for t in ("prom", "vm"):
            assert hbd.metric("heartbeat_remote_write_requests_total", target=t, result="client_error") == 0
            assert hbd.metric("heartbeat_remote_write_samples_dropped_total", target=t, reason="out_of_order") == 0


def test_alert_levels_and_out_of_order_samples(tmp_path):
    cfg = {
        "remote_write": [target("vm", None)],
        "thresholds": {"cpu_monitor": {"busy_percent": {"warning": 80, "critical": 90}}},
    }
    with VictoriaMetrics(str(tmp_path)) as vm:
        cfg["remote_write"][0]["url"] = vm.write_url
        with Hbd(cfg) as hbd:
            c = Client("web01", hbd.hb_port)
            c.heartbeat(interval=30)
            base = time.time() - 20
            c.plg("cpu_monitor", {"busy_percent": 50}, ts=base)
            c.plg("cpu_monitor", {"busy_percent": 95}, ts=base + 1)
            # Older than the last sample: not written, though the alert engine (which takes samples as
            # they come) recovers with it; both levels are written, the last one last.
            c.plg("cpu_monitor", {"busy_percent": 10}, ts=base + 0.5)
            levels = hbd.wait_for(lambda: vm.export('{__name__="heartbeat_alert_level"}'), 20, "an alert level",
                                  ok=lambda s: len(s) == 1 and s[0]["values"][-2:] == [2, 0])
            assert levels[0]["metric"]["metric_path"] == "cpu_monitor.busy_percent"
            assert levels[0]["metric"]["host"] == "web01"
            values = hbd.wait_for(lambda: vm.export('{__name__="heartbeat_plugin_value"}'), 10, "two values",
                                  ok=lambda s: len(s) == 1 and len(s[0]["values"]) == 2)
            assert values[0]["values"] == [50, 95]
            assert values[0]["timestamps"] == [ms(base), ms(base + 1)]
            assert hbd.metric("heartbeat_remote_write_samples_dropped_total", target="vm", reason="out_of_order") == 1


def test_check_results_are_written(tmp_path):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = probe.getsockname()[1]
    probe.close()
    with VictoriaMetrics(str(tmp_path)) as vm:
        port = urllib.parse.urlsplit(vm.write_url).port
        cfg = {
            "remote_write": [target("vm", vm.write_url)],
            "checks": {"vm-port": {"type": "tcp", "address": "127.0.0.1", "port": port, "interval": 1,
                                   "host": "db01"},
                       "closed": {"type": "tcp", "address": "127.0.0.1", "port": closed, "interval": 1}},
        }
        with Hbd(cfg) as hbd:
            up = hbd.wait_for(lambda: vm.export('{__name__="heartbeat_check_up"}'), 20, "check_up of both checks",
                              ok=lambda s: len(s) == 2 and all(len(x["values"]) >= 2 for x in s))
            by = {s["metric"]["check"]: s for s in up}
            assert set(by["vm-port"]["values"]) == {1}
            assert by["vm-port"]["metric"]["host"] == "db01" and by["vm-port"]["metric"]["site"] == "fra1"
            assert set(by["closed"]["values"]) == {0}
            assert "host" not in by["closed"]["metric"]
            ts = by["vm-port"]["timestamps"]
            assert ts == sorted(ts) and abs(ts[-1] / 1000 - time.time()) < 30
            resp = vm.export('{__name__="heartbeat_check_response_seconds",check="vm-port"}')
            assert resp and all(0 <= v < 5 for v in resp[0]["values"])
