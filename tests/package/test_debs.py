"""The Debian packages end to end, on this machine (disposable: CI). Builds them with
scripts/package.sh, checks them with lintian, installs all four with apt-get, checks the
layout, the user, the man pages and the systemd units (systemd-analyze verify and security),
runs /usr/bin/hbd -c /etc/heartbeat/hbd.yaml -f as the user heartbeat with the packaged hbc
reporting to it, looks at /live and /plugins/<host> in Chromium, then purges the packages and
checks that nothing is left. The packages are purged also when a check fails. Needs root;
ctest runs it alone (it uses hbd's default ports and installs system files)."""

import glob
import grp
import json
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import urllib.request

import pytest

SOURCE_DIR = os.environ.get("HB_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("HB_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
PACKAGES = ["heartbeat-server", "heartbeat-client", "heartbeat-client-mini", "libheartbeat-dev"]
UNITS = {"hbd.service": 2.5, "hbc.service": 4.5, "hbc-mini.service": 4.5}  # highest exposure allowed
LEFTOVERS = ["/etc/heartbeat", "/etc/default/hbc", "/etc/default/hbc-mini", "/var/lib/heartbeat",
             "/var/log/heartbeat", "/usr/share/heartbeat", "/usr/bin/hbd", "/usr/bin/hbc", "/usr/bin/hbc_mini",
             "/usr/include/heartbeat", "/usr/share/cmake/heartbeat", "/lib/systemd/system/hbd.service",
             "/etc/systemd/system/hbd.service", "/etc/systemd/system/hbc.service",
             "/etc/systemd/system/multi-user.target.wants/hbd.service",
             "/etc/systemd/system/multi-user.target.wants/hbc.service",
             "/etc/systemd/system/multi-user.target.wants/hbc-mini.service"]

if os.geteuid() != 0:
    pytest.skip("installs Debian packages on this machine: needs root (CI runs it as root)",
                allow_module_level=True)
for tool in ("apt-get", "dpkg", "lintian", "systemd-analyze", "runuser", "man"):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/install-deps.sh)", allow_module_level=True)


def sh(*argv, check=True, timeout=600, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited with {r.returncode}:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return r


def apt_env():
    return dict(os.environ, DEBIAN_FRONTEND="noninteractive")


def purge():
    installed = [p for p in PACKAGES
                 if sh("dpkg-query", "-W", "-f=${db:Status-Status}", p, check=False).stdout.strip()
                 not in ("", "not-installed")]
    if installed:
        sh("apt-get", "purge", "-y", "-q", *installed, env=apt_env())


def wait_until(probe, timeout, what):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = probe()
            if last:
                return last
        except OSError as e:
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last seen: {last!r})")


def http_get(path):
    with urllib.request.urlopen(f"http://127.0.0.1:50004{path}", timeout=5) as r:
        return r.read().decode()


@pytest.fixture(scope="module")
def debs():
    for port, kind in ((50003, socket.SOCK_DGRAM), (50004, socket.SOCK_STREAM), (50005, socket.SOCK_STREAM)):
        s = socket.socket(socket.AF_INET, kind)
        if kind == socket.SOCK_STREAM:  # as hbd's listener: a connection in TIME_WAIT is no obstacle
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            pytest.fail(f"port {port} is in use: the packaged hbd needs its default ports")
        finally:
            s.close()
    purge()  # what an earlier, interrupted run left
    t0 = time.time()
    r = sh(os.path.join(SOURCE_DIR, "scripts", "package.sh"), env=dict(os.environ, HB_BUILD_DIR=BUILD_DIR),
           cwd=SOURCE_DIR, timeout=1200)
    print(f"# packages built in {time.time() - t0:.1f} s")
    files = sorted(glob.glob(os.path.join(BUILD_DIR, "packages", "*.deb")))
    assert sorted(os.path.basename(f).split("_")[0] for f in files) == sorted(PACKAGES), r.stdout
    yield files
    purge()


@pytest.fixture(scope="module")
def installed(debs):
    try:
        sh("apt-get", "install", "-y", "-q", *debs, env=apt_env())
        if os.path.isdir("/run/systemd/system"):  # a machine with systemd started them: our own run below
            sh("systemctl", "stop", *UNITS, check=False)
        yield debs
    finally:
        purge()


def test_lintian_reports_no_errors(debs):
    r = sh("lintian", "--fail-on", "error", "--display-level", ">=warning", *debs, check=False, timeout=900)
    print(r.stdout)
    assert r.returncode == 0, f"lintian:\n{r.stdout}\n{r.stderr}"
    assert not re.search(r"^E: ", r.stdout, re.M)


def test_control_fields(debs):
    fields = {}
    for f in debs:
        name = os.path.basename(f).split("_")[0]
        fields[name] = sh("dpkg-deb", "-f", f).stdout
    server = fields["heartbeat-server"]
    for lib in ("libc6", "libssl3", "libcurl4", "libsqlite3-0", "libyaml-cpp", "adduser"):
        assert lib in server, f"heartbeat-server Depends lacks {lib}:\n{server}"
    assert "Depends:" not in fields["heartbeat-client-mini"]  # static
    assert "Architecture: all" in fields["libheartbeat-dev"]
    by_name = {os.path.basename(f).split("_")[0]: f for f in debs}
    assert sh("dpkg-deb", "-I", by_name["heartbeat-server"], "conffiles").stdout.split() == ["/etc/heartbeat/hbd.yaml"]
    assert sorted(sh("dpkg-deb", "-I", by_name["heartbeat-client"], "conffiles").stdout.split()) == \
        ["/etc/default/hbc", "/etc/heartbeat/hbc.yaml"]


def test_man_pages_render(debs):
    with tempfile.TemporaryDirectory() as root:
        for f in debs:
            sh("dpkg-deb", "-x", f, root)
        pages = sorted(glob.glob(os.path.join(root, "usr/share/man/man*/*.gz")))
        names = sorted(os.path.basename(p) for p in pages)
        assert names == ["hbc.1.gz", "hbc.yaml.5.gz", "hbc_mini.1.gz", "hbd.1.gz", "hbd.yaml.5.gz"], names
        for p in pages:
            r = sh("man", "--warnings", "-l", p, env=dict(os.environ, MANWIDTH="80"))
            assert "NAME" in r.stdout and r.stderr.strip() == "", f"{p}: {r.stderr}"
        hbd = sh("man", "-l", os.path.join(root, "usr/share/man/man1/hbd.1.gz")).stdout
        for text in ("--print-config", "backup", "/etc/heartbeat/hbd.yaml", "SIGHUP"):
            assert text in hbd, text


def test_installed_layout_and_user(installed):
    user = pwd.getpwnam("heartbeat")
    group = grp.getgrnam("heartbeat")
    assert user.pw_shell.endswith("nologin")
    for d in ("/var/lib/heartbeat", "/var/log/heartbeat"):
        st = os.stat(d)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (user.pw_uid, group.gr_gid, 0o750), d
    for f, mode in (("/etc/heartbeat/hbd.yaml", 0o640), ("/etc/heartbeat/hbc.yaml", 0o640),
                    ("/etc/heartbeat/hbc_mini.json", 0o600)):
        st = os.stat(f)
        assert stat.S_IMODE(st.st_mode) == mode, f
    assert os.stat("/etc/heartbeat/hbd.yaml").st_gid == group.gr_gid
    assert os.path.isfile("/usr/share/heartbeat/web/static/vendor/uPlot.esm.js")
    assert os.path.isfile("/usr/share/heartbeat/web/live.html")
    assert not os.path.exists("/usr/share/heartbeat/web/node_modules")
    assert os.path.isfile("/usr/share/cmake/heartbeat/heartbeatConfig.cmake")
    # Enabled, not started: there is no systemd running here to start them.
    for unit in UNITS:
        assert os.path.islink(f"/etc/systemd/system/multi-user.target.wants/{unit}"), unit
    assert "not a dynamic executable" in sh("ldd", "/usr/bin/hbc_mini", check=False).stdout + \
        sh("ldd", "/usr/bin/hbc_mini", check=False).stderr
    r = sh("/usr/bin/hbd", "check-config", "-c", "/etc/heartbeat/hbd.yaml")
    assert "OK" in r.stdout


def test_units_verify_and_hardening(installed):
    for unit, limit in UNITS.items():
        path = f"/lib/systemd/system/{unit}"
        r = sh("systemd-analyze", "verify", path, check=False)
        assert r.returncode == 0 and r.stdout.strip() == "" and r.stderr.strip() == "", \
            f"systemd-analyze verify {unit}:\n{r.stdout}{r.stderr}"
        r = sh("systemd-analyze", "security", "--offline=yes", path, check=False)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
        assert m, r.stdout + r.stderr
        print(f"# {unit}: exposure {m.group(1)} (at most {limit})")
        assert float(m.group(1)) <= limit, r.stdout


def test_packaged_hbd_and_hbc_serve_the_web_ui(installed):
    with tempfile.TemporaryDirectory() as tmp:
        os.chown(tmp, pwd.getpwnam("heartbeat").pw_uid, -1)  # the backup below is written by heartbeat
        hbd_log = open(os.path.join(tmp, "hbd.log"), "w+")
        hbd = subprocess.Popen(["runuser", "-u", "heartbeat", "--", "/usr/bin/hbd", "-c", "/etc/heartbeat/hbd.yaml",
                                "-f"], stdout=hbd_log, stderr=subprocess.STDOUT, cwd="/")
        hbc = None
        try:
            def log():
                with open(hbd_log.name) as f:
                    return f.read()

            wait_until(lambda: "hbd: ready" in log() or hbd.poll() is not None, 20, "hbd ready")
            assert hbd.poll() is None, log()
            assert "web UI from /usr/share/heartbeat/web" in log(), log()
            assert "chart library" not in log(), log()
            assert os.path.exists("/var/lib/heartbeat/hbd.sqlite")
            assert os.stat("/var/lib/heartbeat/hbd.sqlite").st_uid == pwd.getpwnam("heartbeat").pw_uid

            server = "localhost"
            with open("/etc/default/hbc") as f:
                for line in f:
                    if line.startswith("HBC_SERVER="):
                        server = line.split("=", 1)[1].strip().strip('"')
            hbc = subprocess.Popen(["runuser", "-u", "heartbeat", "--", "/usr/bin/hbc", "-c", "/etc/heartbeat/hbc.yaml",
                                    server], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
            host = socket.gethostname().split(".")[0]
            wait_until(lambda: "cpu_monitor" in json.loads(http_get(f"/api/0/hosts/{host}/plugins"))["plugins"],
                       30, f"{host}'s cpu_monitor data")
            r = sh("node", os.path.join(SOURCE_DIR, "tests", "package", "debs_browser.mjs"), "http://127.0.0.1:50004",
                   host, env=dict(os.environ, HB_SOURCE_DIR=SOURCE_DIR), timeout=120)
            print(r.stdout)

            backup = os.path.join(tmp, "backup.sqlite")
            sh("runuser", "-u", "heartbeat", "--", "/usr/bin/hbd", "backup", backup, "-c", "/etc/heartbeat/hbd.yaml",
               cwd="/")
            r = sh("/usr/bin/hbd", "restore", backup, "-c", "/etc/heartbeat/hbd.yaml", check=False)
            assert r.returncode == 1 and "stop it first" in r.stderr
        finally:
            for p in (hbc, hbd):
                if p and p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(15)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
            hbd_log.close()
        # runuser passes SIGTERM on and then ends by it: hbd's own last line tells a clean stop.
        with open(hbd_log.name) as f:
            assert "hbd: stopped" in f.read()


def test_purge_leaves_nothing(installed):
    purge()
    left = [p for p in LEFTOVERS if os.path.lexists(p)]
    assert left == []
    with pytest.raises(KeyError):
        pwd.getpwnam("heartbeat")
    with pytest.raises(KeyError):
        grp.getgrnam("heartbeat")
    for p in PACKAGES:
        assert sh("dpkg-query", "-W", "-f=${db:Status-Status}", p, check=False).stdout.strip() in ("", "not-installed")
