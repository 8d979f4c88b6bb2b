"""SIGHUP reloads hosts, keys, users and timing without losing state; a bad file
changes nothing."""

import time

from hbtest import Client, Hbd

KEY_C = "key-for-host-c-0123456789abcdef"


def test_sighup_reloads_hosts_keys_and_users_and_keeps_state():
    with Hbd({"interval": 30, "grace": 30, "hosts": {"alpha": {}}}) as hbd:
        b = Client("bravo", hbd.hb_port)
        for _ in range(3):
            b.heartbeat()
        b.plg("cpu_monitor", {"cpu_percent": 5})
        hbd.wait_for(lambda: "cpu_monitor" in (hbd.host("bravo") or {}).get("plugins", []))
        assert hbd.host("alpha")["state"] == "UNKNOWN"

        cfg = dict(hbd.config)
        cfg["hosts"] = {"charlie": {"key": KEY_C, "owner": "root"}}
        hbd.write_config(cfg)
        hbd.sighup()
        hbd.wait_log("configuration reloaded")

        names = {h["name"]: h for h in hbd.hosts()}
        assert "alpha" not in names  # configured, never seen, no longer configured: gone
        assert names["charlie"]["state"] == "UNKNOWN" and names["charlie"]["authenticated"] is True
        bravo = names["bravo"]
        assert bravo["state"] == "UP" and bravo["connections"][0]["seq"] == 3  # state kept
        assert bravo["plugins"] == ["cpu_monitor"]

        # The new key is enforced at once: unauthenticated "charlie" is dropped.
        fake = Client("charlie", hbd.hb_port)
        fake.htb()
        real = Client("charlie", hbd.hb_port, key=KEY_C)
        assert fake.replies_so_far(real) == []
        assert real.heartbeat()["_authenticated"] is True

        # Users added by a reload: the API now wants a login.
        cfg["users"] = {"root": {"password": "pbkdf2:sha256:1000$abcdefgh$" + "0" * 64, "admin": True}}
        hbd.write_config(cfg)
        hbd.sighup()
        hbd.wait_for(lambda: hbd.log().count("configuration reloaded") >= 2)
        status, _, _ = hbd.http("GET", "/api/0/hosts")
        assert status == 401


def test_a_bad_config_on_sighup_keeps_the_running_one():
    with Hbd({"hosts": {"alpha": {}}}) as hbd:
        with open(hbd.config_path, "w") as f:
            f.write("hosts:\n  alpha:\n    key: short\n")
        hbd.sighup()
        hbd.wait_log("keeping the running configuration")
        assert "hosts.alpha.key: must be at least 16 bytes" in hbd.log()
        assert hbd.running()
        assert hbd.host("alpha")["authenticated"] is False
        Client("alpha", hbd.hb_port).heartbeat()
        hbd.wait_host_state("alpha", "UP")
