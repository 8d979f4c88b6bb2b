"""Logs cannot be forged: text a sender controls (a user name at login, a plugin's error
output) reaches hbd's and hbc's logs with its control characters escaped, so it can
neither start a line of its own nor rewrite what a terminal shows."""

import os
import stat

from api_helpers import request, users_config
from client_support import Hbc
from hbtest import Hbd


def lines(text):
    return text.split("\n")


def test_a_user_name_with_a_newline_starts_no_line_in_hbds_log():
    with Hbd({"users": users_config(alice=True)}) as hbd:
        forged = "x\nFAKE 2026-01-01T00:00:00Z info: api: user 'alice' logged in from 10.0.0.1"
        st, _, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/login", {"username": forged, "password": "nope"})
        assert st == 401
        st, _, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/login",
                              {"username": "y\r\x1b[2Kz", "password": "nope"})
        assert st == 401
        hbd.wait_log("failed login for 'y")
        log = hbd.log()
        assert not [line for line in lines(log) if line.startswith("FAKE")]
        assert "failed login for 'x\\nFAKE 2026-01-01T00:00:00Z info:" in log
        assert "failed login for 'y\\r\\x1b[2Kz'" in log
        assert "\r" not in log and "\x1b" not in log


def test_plugin_output_with_control_characters_is_escaped_in_hbcs_log():
    with Hbd({"interval": 1, "grace": 5}) as hbd:
        path = os.path.join(hbd.dir, "evil.sh")
        with open(path, "w") as f:
            f.write("#!/bin/sh\nprintf 'boom\\rFAKE hbc: all fine\\033[2K\\n' >&2\nexit 4\n")
        os.chmod(path, stat.S_IRWXU)
        cfg = {"default_plugins": False, "plugins": {"evil": {"type": "exec", "command": path, "interval": 60}}}
        with Hbc(hbd, cfg) as hbc:
            hbd.wait_for(lambda: "exited with 4" in hbc.log(), 15, "the plugin's failure in hbc's log")
            log = hbc.log()
            assert "boom\\rFAKE hbc: all fine\\x1b[2K" in log
            assert "\r" not in log and "\x1b" not in log
            assert not [line for line in lines(log) if line.startswith("FAKE")]
