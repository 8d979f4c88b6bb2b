"""Host admission against the real hbd on loopback, attacked from outside: a flood of
50,000 random names stops at max_hosts while a configured host keeps its ACKs and the
memory stays flat; max_new_hosts_per_minute, accept_hosts configured/authenticated and
max_plugins_per_host refuse what they should and count it; a spoofed heartbeat of a
`dyn` host never reaches nsupdate, and `dyn` without a key is a configuration error."""

import os
import random
import socket
import stat
import string
import subprocess
import threading
import time

from hbtest import Client, Hbd, encode, hb_binary, wait_until

KEY = "admission-key-0123456789"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def rejected(hbd, reason):
    return hbd.metric("heartbeat_datagrams_rejected_total", reason=reason) or 0


def host_count(hbd):
    return int(hbd.metric("heartbeat_hosts"))


def names(n, prefix="r"):
    rnd = random.Random(14)
    return [prefix + "".join(rnd.choices(string.ascii_lowercase + string.digits, k=12)) for _ in range(n)]


def test_a_flood_of_random_names_stops_at_max_hosts_and_a_known_host_keeps_its_acks():
    with Hbd({"max_hosts": 1000, "hosts": {"web01": {}}, "interval": 30}) as hbd:
        known = Client("web01", hbd.hb_port, timeout=1.0)
        known.heartbeat()
        hbd.wait_host_state("web01", "UP")
        before = rss_kb(hbd.pid)
        datagrams = [encode({"ID": "HTB", "name": n, "ver": 1, "seq": 1, "interval": 30, "ts": time.time()})
                     for n in names(50000)]
        acks, misses, done = [], [], threading.Event()

        def heartbeat_meanwhile():
            while not done.is_set():
                try:
                    acks.append(known.heartbeat(timeout=1.0))
                except TimeoutError:
                    misses.append(time.time())
                time.sleep(0.01)

        t = threading.Thread(target=heartbeat_meanwhile)
        t.start()
        flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        started = time.time()
        for d in datagrams:
            flood.sendto(d, ("127.0.0.1", hbd.hb_port))
        sent_in = time.time() - started
        done.set()
        t.join()
        flood.close()
        # Every flood datagram has been read once the known host's next heartbeat is answered.
        assert known.heartbeat(timeout=5.0)["ID"] == "ACK"
        assert host_count(hbd) <= 1000
        assert len(hbd.hosts()) <= 1000
        assert rejected(hbd, "host_limit") > 0
        assert rss_kb(hbd.pid) - before < 50 * 1024, (before, rss_kb(hbd.pid))
        assert acks and not misses, f"{len(misses)} heartbeats of web01 unanswered during {sent_in:.2f} s of flood"
        assert hbd.host("web01")["state"] == "UP"
        # The refusals are logged, but not once per datagram.
        refusals = [line for line in hbd.log().splitlines() if "ingest: refused" in line and "host_limit" in line]
        assert 1 <= len(refusals) <= 2, refusals


def test_new_names_are_rate_limited_and_known_hosts_are_not():
    with Hbd({"max_new_hosts_per_minute": 10}) as hbd:
        first = Client("first", hbd.hb_port)
        first.heartbeat()
        flood = Client("flood", hbd.hb_port)
        for n in names(50, "rate"):
            flood.send_raw(encode({"ID": "HTB", "name": n, "ver": 1, "seq": 1, "interval": 30}))
        for _ in range(20):
            first.heartbeat()  # known: never refused; also marks that the burst was read
        created = [h["name"] for h in hbd.hosts() if h["name"].startswith("rate")]
        assert 1 <= len(created) <= 10, created  # the bucket held 9 more after `first`
        assert rejected(hbd, "host_rate") >= 40


def test_configured_mode_accepts_only_configured_names():
    with Hbd({"accept_hosts": "configured", "hosts": {"web01": {}}}) as hbd:
        stranger = Client("stranger", hbd.hb_port)
        stranger.htb()
        stranger.plg("cpu_monitor", {"cpu_percent": 5})
        stranger.msg("hello")
        web = Client("web01", hbd.hb_port)
        assert web.heartbeat()["ID"] == "ACK"
        assert stranger.replies_so_far(web) == []  # never answered
        assert [h["name"] for h in hbd.hosts()] == ["web01"]
        assert rejected(hbd, "not_configured") == 3
        assert "accept_hosts is configured" in hbd.log()


def test_authenticated_mode_needs_a_valid_envelope():
    with Hbd({"accept_hosts": "authenticated", "hosts": {"web01": {"key": KEY}, "web02": {}}}) as hbd:
        good = Client("web01", hbd.hb_port, key=KEY)
        assert good.heartbeat()["_authenticated"]
        spoof = Client("web01", hbd.hb_port)  # the right name, no envelope
        spoof.htb()
        Client("web02", hbd.hb_port).htb()  # configured but without a key: cannot authenticate
        Client("stranger", hbd.hb_port).htb()
        assert spoof.replies_so_far(good) == []
        assert {h["name"]: h["state"] for h in hbd.hosts()} == {"web01": "UP", "web02": "UNKNOWN"}
        assert rejected(hbd, "auth_required") == 3


def test_plugin_names_per_host_are_bounded():
    with Hbd({"max_plugins_per_host": 3}) as hbd:
        c = Client("web01", hbd.hb_port)
        c.heartbeat()
        for i in range(6):
            c.plg(f"p{i}", {"v": i})
        c.heartbeat()  # the PLGs before it have been read
        plugins = hbd.wait_for(lambda: hbd.get_json("/api/0/hosts/web01/plugins")["plugins"], 5, "plugins",
                               ok=lambda p: len(p) >= 3)
        assert sorted(plugins) == ["p0", "p1", "p2"]
        assert rejected(hbd, "plugin_limit") == 3
        c.plg("p1", {"v": 42})  # a known plugin keeps updating
        hbd.wait_for(lambda: hbd.get_json("/api/0/hosts/web01/plugins")["plugins"]["p1"]["data"], 5, "p1 updated",
                     ok=lambda d: d == {"v": 42})


def recording_nsupdate(dirpath):
    """An nsupdate stand-in that records each call (its stdin) in calls.txt."""
    path = os.path.join(dirpath, "nsupdate.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\ncat >> \"$(dirname \"$0\")/calls.txt\"\necho call >> \"$(dirname \"$0\")/calls.txt\"\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path, os.path.join(dirpath, "calls.txt")


def test_a_spoofed_heartbeat_of_a_dyn_host_never_runs_nsupdate(tmp_path):
    script, calls = recording_nsupdate(str(tmp_path))
    cfg = {"dyndomains": ["dyn.example"], "nsupdate_bin": script,
           "hosts": {"web01": {"dyn": True, "key": KEY}, "marker": {}}}
    with Hbd(cfg) as hbd:
        spoof = Client("web01", hbd.hb_port)
        spoof.htb()
        spoof.htb(compress=True)
        marker = Client("marker", hbd.hb_port)
        assert spoof.replies_so_far(marker) == []
        assert rejected(hbd, "auth_required") == 2
        assert hbd.host("web01")["connections"] == []
        assert not os.path.exists(calls)
        # The owner's authenticated heartbeat does update DNS (the stand-in is called).
        Client("web01", hbd.hb_port, key=KEY).heartbeat()
        wait_until(lambda: os.path.exists(calls) and "web01.dyn.example" in open(calls).read(), timeout=10,
                   what="nsupdate called for the authenticated heartbeat")


def test_dyn_without_key_is_a_configuration_error(tmp_path):
    cfg = tmp_path / "hb.yaml"
    cfg.write_text("dyndomains: [dyn.example]\nhosts:\n  web01:\n    dyn: true\n")
    r = subprocess.run([hb_binary("hbd"), "check-config", "-c", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "hosts.web01.dyn: needs hosts.web01.key" in r.stderr
    r = subprocess.run([hb_binary("hbd"), "-f", "-c", str(cfg)], capture_output=True, text=True, timeout=10,
                       env=dict(os.environ, HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path)))
    assert r.returncode == 2 and "hosts.web01.dyn: needs hosts.web01.key" in r.stderr


def test_bad_admission_keys_name_their_key_path(tmp_path):
    cfg = tmp_path / "hb.yaml"
    cfg.write_text("accept_hosts: everyone\nmax_hosts: -1\nmax_plugins_per_host: x\n")
    r = subprocess.run([hb_binary("hbd"), "check-config", "-c", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "accept_hosts: must be one of any configured authenticated" in r.stderr
    assert "max_hosts: must be between" in r.stderr
    assert "max_plugins_per_host: must be a whole number" in r.stderr
