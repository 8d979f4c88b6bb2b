"""Dynamic DNS through the real hbd and a real BIND 9: the test starts `named`
on a free loopback port with a dynamic zone and a TSIG key it generates; a
heartbeat from a `dyn: true` host puts <name>.<dyndomain> A (and AAAA over ::1)
on the host's source address, checked with dig."""

import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from hbtest import Client, Hbd, free_port, has_ipv6, wait_until

NAMED = "/usr/sbin/named"
ZONE = "dyn.hbtest"
KEY = "dyn-host-key-0123456789"  # DNS follows only authenticated heartbeats

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (NAMED, "/usr/bin/nsupdate", "/usr/bin/dig", "/usr/sbin/tsig-keygen")),
    reason="bind9 and bind9-dnsutils are needed")


class Named:
    """A BIND 9 primary for ZONE on 127.0.0.1:<port>, updates allowed with a generated TSIG key."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hbtest-named-")
        self.port = free_port("both")
        self.key_path = os.path.join(self.dir, "tsig.key")
        key = subprocess.run(["/usr/sbin/tsig-keygen", "-a", "hmac-sha256", "hb-key"], check=True,
                             capture_output=True, text=True).stdout
        with open(self.key_path, "w") as f:
            f.write(key)
        with open(os.path.join(self.dir, "zone.db"), "w") as f:
            f.write(f"$TTL 60\n@ IN SOA ns.{ZONE}. admin.{ZONE}. 1 3600 600 86400 60\n"
                    f"@ IN NS ns.{ZONE}.\nns IN A 127.0.0.1\n")
        v6 = "{ ::1; }" if has_ipv6() else "{ none; }"
        with open(os.path.join(self.dir, "named.conf"), "w") as f:
            f.write(f'include "{self.key_path}";\n'
                    f'options {{ directory "{self.dir}"; pid-file "{self.dir}/named.pid";\n'
                    f'  listen-on port {self.port} {{ 127.0.0.1; }}; listen-on-v6 port {self.port} {v6};\n'
                    f'  recursion no; dnssec-validation no; }};\n'
                    f'controls {{ }};\n'
                    f'zone "{ZONE}" {{ type master; file "{self.dir}/zone.db"; allow-update {{ key hb-key; }}; }};\n')
        self.log = open(os.path.join(self.dir, "named.log"), "wb")
        self.proc = subprocess.Popen([NAMED, "-g", "-c", os.path.join(self.dir, "named.conf")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: "running" in self.log_text() and self.dig("ns", "A") == ["127.0.0.1"], timeout=15,
                       what="named answering for " + ZONE, interval=0.05, alive=self._check_alive)
        except TimeoutError as e:
            self.stop()
            raise TimeoutError(f"{e}\n{self.log_text()[-2000:]}") from None

    def _check_alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError("named exited: " + self.log_text()[-2000:])

    def log_text(self):
        with open(os.path.join(self.dir, "named.log"), errors="replace") as f:
            return f.read()

    def dig(self, name, rtype):
        out = subprocess.run(["/usr/bin/dig", "+short", "+time=1", "+tries=1", "-p", str(self.port), "@127.0.0.1",
                              f"{name}.{ZONE}", rtype], capture_output=True, text=True, timeout=10).stdout
        return [l for l in out.split("\n") if l]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def named():
    n = Named()
    try:
        yield n
    finally:
        n.stop()


def dns_config(named, **extra):
    cfg = {"interval": 30, "grace": 30, "dyndomains": [ZONE], "nsupdate_bin": "/usr/bin/nsupdate",
           "nsupdate_key": named.key_path, "nsupdate_server": "127.0.0.1", "nsupdate_port": named.port,
           "nsupdate_timeout": 5,
           "hosts": {"web1": {"dyn": True, "key": KEY}, "static1": {}}}
    cfg.update(extra)
    return cfg


def test_dyn_host_gets_a_and_aaaa_records(named):
    with Hbd(dns_config(named)) as hbd:
        Client("web1", hbd.hb_port, key=KEY).heartbeat(interval=30)
        Client("static1", hbd.hb_port).heartbeat(interval=30)
        hbd.wait_for(lambda: named.dig("web1", "A") == ["127.0.0.1"], 10, "web1 A record")
        if has_ipv6():
            Client("web1", hbd.hb_port, host="::1", key=KEY).heartbeat(interval=30)
            hbd.wait_for(lambda: named.dig("web1", "AAAA") == ["::1"], 10, "web1 AAAA record")
        assert named.dig("static1", "A") == []  # not dyn: never touched
        assert "dns: updated web1." + ZONE + " A 127.0.0.1" in hbd.log()


def test_unchanged_address_is_not_sent_again_and_manager_request_forces_it(named):
    cfg = dns_config(named)
    cfg["hosts"]["web2"] = {"dyn": True, "key": KEY}
    with Hbd(cfg) as hbd:
        c = Client("web1", hbd.hb_port, key=KEY)
        c.heartbeat(interval=30)
        hbd.wait_for(lambda: named.dig("web1", "A") == ["127.0.0.1"], 10, "web1 A record")
        for _ in range(5):
            c.heartbeat(interval=30)  # same address: no nsupdate run
        # A marker: web2's first update is queued after anything web1's heartbeats queued, and the DNS
        # worker runs its changes in that order (web1 before web2), so once web2's is done, so is any for web1.
        Client("web2", hbd.hb_port, key=KEY).heartbeat(interval=30)
        hbd.wait_log("dns: updated web2." + ZONE + " A 127.0.0.1")
        assert hbd.log().count("dns: updated web1." + ZONE + " A") == 1
        hbd.post_json("/api/0/hosts/web1/dns", {})
        hbd.wait_for(lambda: hbd.log().count("dns: updated web1." + ZONE + " A") == 2, 10, "a forced update")


def test_refused_update_is_logged_and_retried(named, tmp_path):
    wrong = tmp_path / "wrong.key"
    wrong.write_text(subprocess.run(["/usr/sbin/tsig-keygen", "-a", "hmac-sha256", "hb-key"], check=True,
                                    capture_output=True, text=True).stdout)
    with Hbd(dns_config(named, nsupdate_key=str(wrong))) as hbd:
        Client("web1", hbd.hb_port, key=KEY).heartbeat(interval=30)
        hbd.wait_log("dns: nsupdate for web1." + ZONE + " A 127.0.0.1 failed", 15)
        assert "retry 1 in" in hbd.log()
        assert "secret" not in hbd.log()  # the key never reaches the log
        assert named.dig("web1", "A") == []


def test_dropped_host_loses_its_records(named):
    with Hbd(dns_config(named)) as hbd:
        Client("web1", hbd.hb_port, key=KEY).heartbeat(interval=30)
        hbd.wait_for(lambda: named.dig("web1", "A") == ["127.0.0.1"], 10, "web1 A record")
        status, _, body = hbd.http("DELETE", "/api/0/hosts/web1")
        assert status in (200, 204), body
        hbd.wait_for(lambda: named.dig("web1", "A") == [], 10, "web1 A record removed")
