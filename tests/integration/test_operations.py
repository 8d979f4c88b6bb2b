"""Running Heartbeat as a service (docs/OPERATIONS.md): `hbd --print-config` and GET /api/0/config
show the configuration in force with defaults filled in and secrets masked; `hbd backup` copies
the store of a running hbd under write load and `hbd restore` puts it back (refused while hbd
runs); hbd, hbc and hbc_mini report READY/RELOADING/STOPPING on $NOTIFY_SOCKET (which their
children do not see), and hbc and hbc_mini apply a changed file on SIGHUP; the first rates of
hbc and hbc_mini come at least a second after start-up."""

import glob
import json
import os
import re
import socket
import sqlite3
import stat
import subprocess
import threading
import time

import yaml

from client_support import Hbc
from hbtest import SOURCE_DIR, Client, Hbd, HttpError, free_port, hb_binary, wait_until

KEY = "k" * 32


def run_hbd(*args, env=None):
    return subprocess.run([hb_binary("hbd"), *args], capture_output=True, text=True, timeout=60, env=env)


def test_print_config_fills_in_defaults_and_masks_secrets(tmp_path):
    cfg = tmp_path / "hbd.yaml"
    cfg.write_text(yaml.safe_dump({
        "hb_port": 50100, "grace": "1m",
        "hosts": {"web01": {"key": KEY, "owner": "alice"}},
        "users": {"alice": {"password": "pbkdf2:sha256:1000$salt$hash", "admin": True}},
        "notifiers": {"push": {"type": "pushover", "token": "push-token-1", "user": "push-user-1"}},
    }))
    r = run_hbd("--print-config", "-c", str(cfg))
    assert r.returncode == 0, r.stderr
    for secret in (KEY, "pbkdf2:", "push-token-1", "push-user-1"):
        assert secret not in r.stdout
    got = yaml.safe_load(r.stdout)
    assert got["hb_port"] == 50100 and got["grace"] == 60  # as written, durations in seconds
    assert got["hbd_port"] == 50004 and got["history_samples"] == 100 and got["journal_max_backups"] == 10
    assert got["hosts"]["web01"] == {"key": "***", "watch": True, "dyn": False, "threshold_config": [],
                                     "owner": "alice", "managers": [], "monitors": []}
    assert got["users"]["alice"]["password"] == "***" and got["users"]["alice"]["notification_channels"] == []
    assert got["notifiers"]["push"]["token"] == "***" and got["pushsrv"] == "all"
    assert got["notify"]["retry_attempts"] == 4 and got["threshold_renotify_interval"] == 3600

    # No file at all: the built-in defaults, every key.
    home = tmp_path / "home"
    home.mkdir()
    r = run_hbd("--print-config", env=dict(os.environ, HOME=str(home), XDG_STATE_HOME=str(home / "state")))
    assert r.returncode == 0, r.stderr
    got = yaml.safe_load(r.stdout)
    assert got["hb_port"] == 50003 and got["state_db"] == str(home / "state" / "heartbeat" / "hbd.sqlite")
    assert got["hosts"] == {} and got["thresholds"] == {} and got["maintenance"] == []

    cfg.write_text("grace: soon\n")
    r = run_hbd("--print-config", "-c", str(cfg))
    assert r.returncode == 2 and "grace" in r.stderr


def test_api_config_is_the_effective_configuration():
    with Hbd({"hosts": {"db1": {"key": KEY}}}) as hbd:
        cfg = hbd.get_json("/api/0/config")
        # Keys the file does not set, with their defaults.
        assert cfg["grace"] == 15 and cfg["history_retention"] == 604800 and cfg["require_auth"] is False
        assert cfg["notify"]["dedup_window"] == 60 and cfg["maintenance"] == []
        assert cfg["hosts"]["db1"]["key"] == "***" and cfg["hb_port"] == hbd.hb_port
        assert cfg["web_dir"].endswith("web")


def store_hosts(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        return {r[0] for r in db.execute("SELECT name FROM hosts")}, db.execute(
            "SELECT count(*) FROM plugin_history").fetchone()[0]
    finally:
        db.close()


def test_backup_under_load_and_restore_after_stop():
    with Hbd({"interval": 1, "grace": 30}) as hbd:
        with Client("alpha", hbd.hb_port) as a:
            a.heartbeat()
            a.plg("cpu_monitor", {"cpu_percent": 12.5})
        hbd.wait_for(lambda: hbd.state_db("SELECT count(*) FROM plugin_history WHERE host='alpha'")[0][0] >= 1, 10,
                     "alpha's sample in the store")
        # A writer keeps the store busy while the backups run.
        stop = threading.Event()

        def load():
            with Client("loader", hbd.hb_port) as c:
                i = 0
                while not stop.is_set():
                    c.plg("cpu_monitor", {"cpu_percent": i % 100})
                    i += 1
                    time.sleep(0.002)

        t = threading.Thread(target=load)
        t.start()
        try:
            hbd.wait_for(lambda: hbd.state_db("SELECT count(*) FROM plugin_history WHERE host='loader'")[0][0] > 50,
                         10, "the loader's samples in the store")
            for i in range(3):
                out = os.path.join(hbd.dir, f"backup{i}.sqlite")
                r = run_hbd("backup", out, "-c", hbd.config_path)
                assert r.returncode == 0, r.stderr
                assert "backed up to" in r.stdout
                hosts, _ = store_hosts(out)
                assert {"alpha", "loader"} <= hosts
                assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
                assert not os.path.exists(out + "-wal")
        finally:
            stop.set()
            t.join()
        backup = os.path.join(hbd.dir, "backup0.sqlite")

        r = run_hbd("restore", backup, "-c", hbd.config_path)
        assert r.returncode == 1 and "stop it first" in r.stderr, r.stderr
        assert hbd.running()

        with Client("beta", hbd.hb_port) as b:
            b.heartbeat()
        hbd.wait_for(lambda: hbd.state_db("SELECT count(*) FROM hosts WHERE name='beta'")[0][0] == 1, 10,
                     "beta in the store")
        assert hbd.stop() == 0

        not_a_store = os.path.join(hbd.dir, "other.sqlite")
        sqlite3.connect(not_a_store).execute("CREATE TABLE x(y)").connection.close()
        r = run_hbd("restore", not_a_store, "-c", hbd.config_path)
        assert r.returncode == 1 and "not a Heartbeat store" in r.stderr

        r = run_hbd("restore", backup, "-c", hbd.config_path)
        assert r.returncode == 0, r.stderr
        assert os.path.exists(hbd.config["state_db"] + ".before-restore")
        hbd.start()
        names = {h["name"] for h in hbd.hosts()}
        assert "alpha" in names and "beta" not in names


class NotifySocket:
    """The service manager's end of sd_notify: an AF_UNIX datagram socket in a temporary directory."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.seen = []

    def wait(self, line, timeout=15):
        def probe():
            try:
                self.seen.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
            return any(line in m.split("\n") for m in self.seen)

        wait_until(probe, timeout=timeout, what=f"{line} on NOTIFY_SOCKET (seen: {self.seen})")
        self.seen.clear()

    def close(self):
        self.sock.close()


def test_readiness_reload_and_stop_reach_systemd(tmp_path):
    ns = NotifySocket(str(tmp_path))
    try:
        with Hbd({"interval": 1, "grace": 30}, env={"NOTIFY_SOCKET": ns.path}) as hbd:
            ns.wait("READY=1")
            assert hbd.http("GET", "/healthz")[0] == 200  # READY comes once hbd serves
            hbd.sighup()
            ns.wait("RELOADING=1")
            ns.wait("READY=1")

            # hbc: ready, a changed file applied on SIGHUP, $NOTIFY_SOCKET not passed to plugins.
            env_probe = {"type": "exec", "interval": 1,
                         "command": ["/bin/sh", "-c", "printf '{\"notify_socket\": \"%s\"}' \"$NOTIFY_SOCKET\""]}
            hbc = Hbc(hbd, {"default_plugins": False, "owner": "alice", "plugins": {"env_probe": env_probe}})
            hbc.proc = subprocess.Popen(hbc.argv, stdout=subprocess.DEVNULL, stderr=open(hbc.log_path, "w"),
                                        env=dict(os.environ, NOTIFY_SOCKET=ns.path))
            try:
                ns.wait("READY=1")
                hbd.wait_host_state("client01", "UP", 10)
                data = hbd.wait_for(lambda: hbd.get_json("/api/0/hosts/client01/plugins")["plugins"]
                                    .get("env_probe", {}).get("data"), 10, "env_probe data")
                assert data == {"notify_socket": ""}
                cfg = yaml.safe_load(open(hbc.config_path))
                cfg["owner"] = "bob"
                with open(hbc.config_path, "w") as f:
                    yaml.safe_dump(cfg, f)
                hbc.proc.send_signal(1)  # SIGHUP
                ns.wait("RELOADING=1")
                ns.wait("READY=1")
                hbd.wait_for(lambda: hbd.host("client01").get("owner") == "bob", 10, "the new owner")
                # A file with errors changes nothing.
                with open(hbc.config_path, "w") as f:
                    f.write("interval: 0\n")
                hbc.proc.send_signal(1)
                wait_until(lambda: "keeping the running one" in hbc.log(), timeout=10, what="the refusal")
                assert hbc.proc.poll() is None
                assert hbc.stop() == 0
                ns.wait("STOPPING=1")
            finally:
                hbc.stop()

            # hbc_mini: ready, a changed file applied on SIGHUP.
            mini_cfg = tmp_path / "mini.json"
            mini_cfg.write_text(json.dumps({"name": "mini-a", "hb_port": hbd.hb_port, "interval": 1,
                                            "default_plugins": False}))
            mini = subprocess.Popen([hb_binary("hbc_mini"), "-c", str(mini_cfg), "127.0.0.1"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=dict(os.environ, NOTIFY_SOCKET=ns.path))
            try:
                ns.wait("READY=1")
                hbd.wait_host_state("mini-a", "UP", 10)
                mini_cfg.write_text(json.dumps({"name": "mini-b", "hb_port": hbd.hb_port, "interval": 1,
                                                "default_plugins": False}))
                mini.send_signal(1)
                ns.wait("RELOADING=1")
                ns.wait("READY=1")
                hbd.wait_host_state("mini-b", "UP", 10)
                mini.terminate()
                assert mini.wait(10) == 0
                ns.wait("STOPPING=1")
            finally:
                if mini.poll() is None:
                    mini.kill()
                    mini.wait()
            assert hbd.stop() == 0
            ns.wait("STOPPING=1")
    finally:
        ns.close()


def first_sample_time(hbd, host, plugin):
    try:
        got = hbd.get_json(f"/api/0/hosts/{host}/plugins/{plugin}?limit=1000")
    except HttpError as e:
        if e.status == 404:  # the host or the plugin not heard of yet
            return None
        raise
    times = [s["timestamp"] for s in got.get("samples", [])]
    return min(times) if times else None


def test_first_rates_come_a_second_after_start(tmp_path):
    with Hbd({"interval": 1, "grace": 30}) as hbd:
        rates = ("cpu_monitor", "disk_monitor", "network_monitor")
        t0 = time.time()
        with Hbc(hbd, {"default_plugins": False, "plugins": {p: {} for p in rates}}):
            for p in rates:
                ts = hbd.wait_for(lambda p=p: first_sample_time(hbd, "client01", p), 15, f"hbc's first {p}")
                assert ts - t0 >= 1.0, f"{p}: first sample {ts - t0:.3f} s after start"
        mini_cfg = tmp_path / "mini.json"
        mini_cfg.write_text(json.dumps({"name": "mini01", "hb_port": hbd.hb_port, "interval": 1,
                                        "default_plugins": False,
                                        "plugins": {"cpu_monitor": {}, "network_monitor": {}}}))
        t0 = time.time()
        mini = subprocess.Popen([hb_binary("hbc_mini"), "-c", str(mini_cfg), "127.0.0.1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for p in ("cpu_monitor", "network_monitor"):
                ts = hbd.wait_for(lambda p=p: first_sample_time(hbd, "mini01", p), 15, f"hbc_mini's first {p}")
                assert ts - t0 >= 1.0, f"{p}: first sample {ts - t0:.3f} s after start"
        finally:
            mini.terminate()
            mini.wait(10)


def uncommented(path):
    """The file with every commented-out key line uncommented (prose comments stay)."""
    out = []
    for line in open(path).read().split("\n"):
        out.append(line[1:] if re.match(r"^#(\s*)([A-Za-z_][\w.-]*:(\s|$)|- )", line) else line)
    return "\n".join(out)


def test_packaged_config_files_list_every_key_and_stay_valid(tmp_path):
    """packaging/etc/hbd.yaml and hbc.yaml (the packages' /etc/heartbeat files) are valid as shipped and
    with every commented key uncommented, and hbd.yaml and hbd.yaml(5) name every top-level key hbd
    knows (docs/CONFIG.md "Adding a key")."""
    etc = os.path.join(SOURCE_DIR, "packaging", "etc")
    full = tmp_path / "hbd.yaml"
    full.write_text(uncommented(os.path.join(etc, "hbd.yaml")))
    for path in (os.path.join(etc, "hbd.yaml"), str(full)):
        r = run_hbd("check-config", "-c", path)
        assert r.returncode == 0 and r.stderr == "", f"{path}:\n{r.stderr}"
    shipped_tree = yaml.safe_load(full.read_text())
    shipped = set(shipped_tree)
    known = set(yaml.safe_load(run_hbd("--print-config", "-c", str(full)).stdout))
    # Also every key hbd knows without any file (its built-in defaults), so that a key the file
    # leaves out cannot slip through.
    home = tmp_path / "home"
    home.mkdir()
    r = run_hbd("--print-config", env=dict(os.environ, HOME=str(home), XDG_STATE_HOME=str(home / "state")))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    defaults = yaml.safe_load(r.stdout)
    known |= set(defaults)
    assert known - shipped == set(), "keys missing from packaging/etc/hbd.yaml"
    man = open(os.path.join(SOURCE_DIR, "packaging", "man", "hbd.yaml.5")).read().replace("\\-", "-")
    assert [k for k in sorted(known) if k not in man] == [], "keys missing from packaging/man/hbd.yaml.5"
    # The keys of the sections with fixed keys (notify, partition, cluster) too.
    for key, value in defaults.items():
        if isinstance(value, dict) and value:
            assert set(value) - set(shipped_tree.get(key) or {}) == set(), f"{key}: missing from hbd.yaml"
            assert [k for k in sorted(value) if k not in man] == [], f"{key}: missing from hbd.yaml.5"

    port = free_port("udp")
    full = tmp_path / "hbc.yaml"
    full.write_text(uncommented(os.path.join(etc, "hbc.yaml")).replace("hb_port: 50003", f"hb_port: {port}"))
    for path in (os.path.join(etc, "hbc.yaml"), str(full)):
        r = subprocess.run([hb_binary("hbc"), "-c", path, "-m", "config check", "127.0.0.1"], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode != 2 and "error" not in r.stderr and "warn" not in r.stderr, f"{path}:\n{r.stderr}"
    mini = json.load(open(os.path.join(etc, "hbc_mini.json")))
    assert mini == {"interval": 30}


def test_man_pages_render():
    """hbd(1), hbc(1), hbc_mini(1) (help2man) and hbd.yaml(5), hbc.yaml(5) as built and installed."""
    from hbtest import BUILD_DIR
    pages = {os.path.basename(p): p for p in glob.glob(os.path.join(BUILD_DIR, "packaging", "man", "*.gz"))}
    assert sorted(pages) == ["hbc.1.gz", "hbc.yaml.5.gz", "hbc_mini.1.gz", "hbd.1.gz", "hbd.yaml.5.gz"]
    for name, path in pages.items():
        r = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, MANWIDTH="100"))
        assert r.returncode == 0 and r.stderr == "", f"{name}: {r.stderr}"
        assert "NAME" in r.stdout and "SEE ALSO" in r.stdout, name
    text = subprocess.run(["man", "-l", pages["hbd.1.gz"]], capture_output=True, text=True, timeout=30).stdout
    for option in ("--print-config", "check-config", "backup", "restore", "/etc/heartbeat/hbd.yaml"):
        assert option in text, option
