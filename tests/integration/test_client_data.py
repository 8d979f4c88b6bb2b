"""hbc against the real hbd: the host goes UP and cpu, memory, disk and network
data arrive; nagios_runner runs real Debian monitoring plugins and a script
killed by a signal; -m, --boot and -b messages reach the API; a bad config
names the key path and exits 2."""

import os
import stat

from client_support import Hbc, plugins_of, run_hbc
from hbtest import Hbd

NAGIOS = "/usr/lib/nagios/plugins"


def test_host_up_and_core_plugin_data_arrive():
    with Hbd({"interval": 1, "grace": 3}) as hbd:
        plugins = {p: {"interval": 1} for p in ("cpu_monitor", "memory_monitor", "disk_monitor", "network_monitor")}
        plugins["cpu_monitor"]["per_core"] = True
        with Hbc(hbd, {"plugins": plugins, "owner": "alice"}):
            hbd.wait_host_state("client01", "UP", 10)

            def all_data():
                p = plugins_of(hbd, "client01")
                want = ("cpu_monitor", "memory_monitor", "disk_monitor", "network_monitor", "os_info",
                        "filesystem_info")
                return p if all(k in p and p[k].get("sample_count", 1) >= 1 for k in want) else None

            p = hbd.wait_for(all_data, 15, "data of every default plugin")
            cpu = p["cpu_monitor"]["data"]
            assert 0 <= cpu["cpu_percent"] <= 100
            assert {"load_1min", "load_5min", "load_15min", "per_core", "uptime_seconds"} <= set(cpu)
            mem = p["memory_monitor"]["data"]
            assert 0 < mem["percent"] < 100 and mem["available_mb"] > 0 and "swap_percent" in mem
            root = p["disk_monitor"]["data"]["partitions"]["/"]
            assert 0 <= root["percent"] <= 100 and root["free_gb"] > 0 and root["free_mb"] > 0
            net = p["network_monitor"]["data"]
            assert "errors_total" in net and "connections" in net and "interfaces" in net
            assert p["os_info"]["data"]["system"] == "Linux"
            host = hbd.host("client01")
            assert host["agent"] == "hbc/1.0.0"
            # A monitor plugin at a 1 s interval keeps sending.
            hbd.wait_for(lambda: plugins_of(hbd, "client01")["cpu_monitor"]["sample_count"] >= 3, 10,
                         "three cpu samples")
            c = host["connections"][0]
            assert c["family"] == "ipv4"
            hbd.wait_for(lambda: hbd.host("client01")["connections"][0].get("rtt") is not None, 5, "an rtt")


def test_nagios_runner_with_real_plugins_and_a_signal_killed_script():
    with Hbd({"interval": 1, "grace": 3}) as hbd:
        killed = os.path.join(hbd.dir, "killed.sh")
        with open(killed, "w") as f:
            f.write("#!/bin/sh\necho 'about to die'\nkill -KILL $$\n")
        os.chmod(killed, stat.S_IRWXU)
        cfg = {"default_plugins": False, "plugins": {"nagios_runner": {"interval": 1, "commands": [
            {"name": "check_load", "command": f"{NAGIOS}/check_load -w 1000,1000,1000 -c 2000,2000,2000"},
            {"name": "check_disk", "command": f"{NAGIOS}/check_disk -w 1% -c 1% -p /"},
            {"name": "killed", "command": killed},
            {"name": "missing", "command": "/nonexistent/check_nothing"},
        ]}}}
        with Hbc(hbd, cfg) as hbc:
            d = hbd.wait_for(lambda: plugins_of(hbd, "client01").get("nagios_runner", {}).get("data"), 15,
                             "nagios_runner data")
            assert d["check_load_status"] == "OK" and d["check_load_status_code"] == 0
            assert d["check_load_output"].startswith("LOAD OK")
            assert "check_load_load1" in d and d["check_load_load1_warning"] == 1000
            assert d["check_disk_status"] == "OK" and d["check_disk_output"].startswith("DISK OK")
            assert d["killed_status"] == "UNKNOWN" and d["killed_status_code"] == 3
            assert d["missing_status"] == "UNKNOWN"
            assert not any(k in d for k in ("status", "status_code", "overall_status"))
            assert "/nonexistent/check_nothing does not exist" in hbc.log()


def test_message_boot_and_planned_stop():
    with Hbd({"interval": 1, "grace": 3}) as hbd:
        cfgp = os.path.join(hbd.dir, "oneshot.yaml")
        with open(cfgp, "w") as f:
            f.write(f"name: client02\nhb_port: {hbd.hb_port}\n")
        r = run_hbc(["-m", "maintenance starting", "127.0.0.1"], config_path=cfgp)
        assert r.returncode == 0, r.stderr
        hbd.wait_for(lambda: any(m.get("msg") == "maintenance starting" for m in hbd.messages()), 5, "the -m message")
        r = run_hbc(["--boot", "127.0.0.1"], config_path=cfgp)
        assert r.returncode == 0, r.stderr

        with Hbc(hbd, {"default_plugins": False}, args=["-b"], name="client03") as hbc:
            hbd.wait_host_state("client03", "UP", 10)
            assert hbc.stop() == 0
        hbd.wait_host_state("client03", "STOPPED", 10)


def test_bad_config_names_the_key_path_and_exits_2(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("interval: 0\nplugins:\n  nagios_runner: {commands: [{name: x}]}\n  bogus: {}\n")
    r = run_hbc(["127.0.0.1"], config_path=str(p))
    assert r.returncode == 2
    assert "interval: must be at least 1 second" in r.stderr
    assert "plugins.nagios_runner.commands.0.command: is required" in r.stderr
    assert 'plugins.bogus: unknown plugin type "bogus"' in r.stderr
    assert run_hbc(["-c", "/nonexistent.yaml", "127.0.0.1"]).returncode == 2
    assert run_hbc([]).returncode == 2
    v = run_hbc(["--version"])
    assert v.returncode == 0 and v.stdout.strip() == "hbc 1.0.0"


def test_ipv6_connection():
    import pytest
    from hbtest import has_ipv6
    if not has_ipv6():
        pytest.skip("no IPv6 loopback")
    with Hbd({"interval": 1, "grace": 3}) as hbd:
        with Hbc(hbd, {"default_plugins": False, "plugins": {"memory_monitor": {"interval": 1}}}, server="::1"):
            hbd.wait_host_state("client01", "UP", 10)
            conns = hbd.host("client01")["connections"]
            assert [c["family"] for c in conns] == ["ipv6"] and conns[0]["address"] == "::1"
            hbd.wait_for(lambda: "memory_monitor" in plugins_of(hbd, "client01"), 10, "data over IPv6")
