"""hbc_mini against the real hbd on loopback: the host comes UP, the /proc and df
plugins deliver data, -m and -b send messages, an allow-listed CMD runs only with
a key and its result comes back as RES, a bad config names the key path, and the
client stays within 2 MiB of RSS."""

import json
import os
import signal
import subprocess

from hbtest import Hbd, hb_binary

KEY = "mini-key-0123456789abcdef"
MINI = hb_binary("hbc_mini")


class Mini:
    """Runs hbc_mini with a config file in the test's directory; always stopped."""

    def __init__(self, hbd, config, args=(), name="mini.json"):
        self.path = os.path.join(hbd.dir, name)
        cfg = {"hb_port": hbd.hb_port}
        cfg.update(config)
        with open(self.path, "w") as f:
            json.dump(cfg, f)
        self.args = [MINI, "-v", "-c", self.path, *args, "127.0.0.1"]
        self.log_path = os.path.join(hbd.dir, name + ".log")
        self.env = dict(os.environ, HOME=hbd.dir)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        return self

    def run(self, timeout=10):
        return subprocess.run(self.args, capture_output=True, text=True, env=self.env, timeout=timeout)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        return self.proc.returncode if self.proc else None

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def plugins_of(hbd, host):
    return hbd.get_json(f"/api/0/hosts/{host}/plugins")["plugins"]


def test_host_up_with_cpu_memory_disk_network_data():
    with Hbd({"interval": 1, "grace": 5}) as hbd:
        cfg = {"name": "mini01", "interval": 1,
               "plugins": {p: {"interval": 1} for p in ("cpu_monitor", "memory_monitor", "disk_monitor",
                                                       "network_monitor")}}
        with Mini(hbd, cfg) as m:
            hbd.wait_host_state("mini01", "UP", 10)
            want = {"os_info", "cpu_monitor", "memory_monitor", "disk_monitor", "network_monitor"}
            got = hbd.wait_for(lambda: (lambda p: p if want <= set(p) else None)(plugins_of(hbd, "mini01")), 15,
                               "all five plugins")
            assert 0 <= got["cpu_monitor"]["data"]["cpu_percent"] <= 100
            assert got["memory_monitor"]["data"]["total_mb"] > 0
            assert "/" in got["disk_monitor"]["data"]["partitions"]
            assert "interfaces" in got["network_monitor"]["data"]
            assert got["os_info"]["data"]["agent"].startswith("hbc_mini/")
            h = hbd.host("mini01")
            assert h["agent"].startswith("hbc_mini/")
            # Heartbeats keep coming with the measured round trip.
            conn = hbd.wait_for(lambda: next((c for c in hbd.host("mini01")["connections"]
                                              if c["family"] == "ipv4" and c.get("rtt") is not None), None), 5, "rtt")
            assert conn["rtt"] >= 0
            assert m.proc.poll() is None


def test_one_shot_message_and_boot():
    with Hbd({"interval": 1, "grace": 5}) as hbd:
        m = Mini(hbd, {"name": "mini02"}, args=["-m", "disk replaced"])
        r = m.run()
        assert r.returncode == 0, r.stdout + r.stderr
        hbd.wait_for(lambda: any(x["host"] == "mini02" and x["msg"] == "disk replaced" for x in hbd.messages()), 5,
                     "the -m message")
        r = Mini(hbd, {"name": "mini02"}, args=["--boot"], name="boot.json").run()
        assert r.returncode == 0
        hbd.wait_for(lambda: any(x["host"] == "mini02" and x.get("event") == "boot" for x in hbd.messages()), 5,
                     "the --boot message")


def test_b_sends_boot_and_shutdown_and_the_host_is_stopped():
    with Hbd({"interval": 1, "grace": 5}) as hbd:
        with Mini(hbd, {"name": "mini03", "interval": 1, "default_plugins": False}, args=["-b"]) as m:
            hbd.wait_host_state("mini03", "UP", 10)
            hbd.wait_for(lambda: any(x["host"] == "mini03" and x.get("event") == "boot" for x in hbd.messages()), 5)
            assert m.stop() == 0
        hbd.wait_host_state("mini03", "STOPPED", 5)


def test_allow_listed_command_runs_only_with_a_key():
    cfg = {"interval": 1, "grace": 5, "hosts": {"mini04": {"key": KEY}}}
    with Hbd(cfg) as hbd:
        mini_cfg = {"name": "mini04", "interval": 1, "key": KEY, "default_plugins": False,
                    "commands": {"say_hello": ["/bin/echo", "hello from mini"]}}
        with Mini(hbd, mini_cfg) as m:
            hbd.wait_host_state("mini04", "UP", 10)
            cid = hbd.post_json("/api/0/hosts/mini04/commands", {"command": "say_hello", "args": []})["id"]
            hbd.wait_for(lambda: any(x["msg"] == f"command {cid} finished with rc 0" for x in hbd.messages()), 10,
                         "the command's RES")
            bad = hbd.post_json("/api/0/hosts/mini04/commands", {"command": "rm_everything", "args": []})["id"]
            hbd.wait_for(lambda: any(x["msg"] == f"command {bad} finished with rc 127" for x in hbd.messages()), 10,
                         "the refusal's RES")
            out = m.output()
            assert "running" in out and "not allow-listed" in out


def test_unauthenticated_host_gets_no_command():
    with Hbd({"interval": 1, "grace": 5}) as hbd:
        with Mini(hbd, {"name": "mini05", "interval": 1, "default_plugins": False,
                        "commands": {"say_hello": ["/bin/echo", "hi"]}}) as m:
            hbd.wait_host_state("mini05", "UP", 10)
            # A host without a key gets no command: hbd refuses to queue one (docs/API.md).
            status, _, body = hbd.http("POST", "/api/0/hosts/mini05/commands", {"command": "say_hello", "args": []})
            assert status == 409, body
            assert hbd.host("mini05")["commands_pending"] == 0
            # One more heartbeat (a queued command would ride behind its ACK): nothing ran.
            seq = hbd.host("mini05")["connections"][0]["seq"]
            hbd.wait_for(lambda: hbd.host("mini05")["connections"][0]["seq"], 10, "the next heartbeat",
                         ok=lambda s: s > seq)
            assert not any(x["msg"].startswith("command ") for x in hbd.messages() if x["host"] == "mini05")
            assert "running" not in m.output()


def test_bad_config_names_the_key_path():
    with Hbd({"interval": 1}) as hbd:
        r = Mini(hbd, {"name": "bad name!", "plugins": {"ping_monitor": {"interval": 5}}}).run()
        assert r.returncode == 2
        err = r.stdout + r.stderr
        assert "name: must be" in err and "plugins.ping_monitor.hosts: is required" in err


def test_rss_stays_under_2_mib():
    with Hbd({"interval": 1, "grace": 5}) as hbd:
        with Mini(hbd, {"name": "mini06", "interval": 1,
                        "plugins": {p: {"interval": 1} for p in ("cpu_monitor", "memory_monitor", "disk_monitor",
                                                                "network_monitor")}}) as m:
            hbd.wait_host_state("mini06", "UP", 10)
            # RSS once every plugin has run three times (steady state, not just start-up).
            plugins = ("cpu_monitor", "memory_monitor", "disk_monitor", "network_monitor")

            def samples():
                return {p: hbd.get_json(f"/api/0/hosts/mini06/plugins/{p}?limit=10")["sample_count"]
                        if p in plugins_of(hbd, "mini06") else 0 for p in plugins}
            hbd.wait_for(samples, 15, "three samples of each plugin", ok=lambda n: min(n.values()) >= 3)
            with open(f"/proc/{m.proc.pid}/status") as f:
                rss_kb = int(next(l for l in f if l.startswith("VmRSS:")).split()[1])
            assert rss_kb <= 2048, f"hbc_mini RSS {rss_kb} KiB"
