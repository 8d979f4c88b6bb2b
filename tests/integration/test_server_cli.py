"""hbd's command line: check-config with key paths, exit codes 0/1/2 with one clear
stderr line, passwd, --version, clean SIGTERM."""

import os
import re
import socket
import subprocess
import tempfile

from hbtest import Client, Hbd, free_port, hb_binary

HBD = hb_binary("hbd")


def run(*args, stdin=None, env=None):
    return subprocess.run([HBD, *args], input=stdin, capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, **(env or {})))


def write(text):
    fd, path = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def test_check_config_accepts_a_good_file():
    path = write("hb_port: 50003\ngrace: 10\nhosts:\n  web01:\n    key: 0123456789abcdef0123\n    watch: false\n")
    r = run("check-config", "-c", path)
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout


def test_check_config_names_every_error_by_key_path_and_exits_2():
    path = write("hb_port: 70000\ngrace: soon\nhosts:\n  web01:\n    key: short\n    watch: maybe\n"
                 "  'bad name':\n    dyn: false\nusers:\n  alice:\n    password: plain\nbogus_key: 1\n")
    r = run("check-config", "-c", path)
    assert r.returncode == 2
    err = r.stderr
    for line in ("hb_port: must be between 0 and 65535", "grace: must be a duration",
                 "hosts.web01.key: must be at least 16 bytes", "hosts.web01.watch: must be true or false",
                 "hosts.bad name: not a valid host name", "users.alice.password: must be a hash",
                 "warning: bogus_key: unknown key"):
        assert line in err, (line, err)


def test_unreadable_or_invalid_config_exits_2_with_one_line():
    r = run("-f", "-c", "/nonexistent/hb.yaml")
    assert r.returncode == 2
    assert "/nonexistent/hb.yaml" in r.stderr
    r = run("-f", "-c", write("hosts: [1, 2\n"))
    assert r.returncode == 2
    assert "hbd: configuration has errors" in r.stderr.strip().splitlines()[-1]


def test_usage_errors_exit_2_and_help_and_version_exit_0():
    r = run("--no-such-flag")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    r = run("--version")
    assert r.returncode == 0 and re.match(r"hbd \d+\.\d+\.\d+", r.stdout)
    r = run("--help")
    assert r.returncode == 0 and "check-config" in r.stdout and "passwd" in r.stdout


def test_passwd_prints_a_pbkdf2_hash():
    r = run("passwd", "alice", stdin="correct horse\n")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"pbkdf2:sha256:\d+\$[A-Za-z0-9]{16}\$[0-9a-f]{64}", r.stdout.strip())
    assert "correct horse" not in r.stdout + r.stderr
    assert run("passwd", "alice", stdin="\n").returncode == 2


def test_port_in_use_is_a_runtime_error_exit_1():
    port = free_port("udp")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    try:
        hbd = Hbd({"hb_port": port})
        try:
            hbd.start(timeout=5)
            raise AssertionError("hbd started on a busy port")
        except RuntimeError as e:
            assert "exited with 1" in str(e)
            assert "cannot listen on udp" in hbd.log()
        finally:
            hbd.cleanup()
    finally:
        s.close()


def test_sigterm_stops_cleanly_with_status_0():
    hbd = Hbd()
    try:
        hbd.start()
        Client("web01", hbd.hb_port).heartbeat()
        assert hbd.stop() == 0
        assert "hbd: stopped" in hbd.log()
    finally:
        hbd.cleanup()
