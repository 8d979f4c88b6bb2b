"""hbc and hbc_mini with several SERVERs (`hbc [options] SERVER [SERVER...]`, docs/CLIENT.md,
docs/MINI.md): each hbd gets its own heartbeats, ACKs and plugin data; a command with the same
cmd_id delivered by two hbd nodes runs once, and both get its RES. Two plain hbd (each on its own
loopback address, the same UDP port) stand in for two nodes: no PostgreSQL needed here."""

import json
import os
import signal
import subprocess

from client_support import Hbc, plugins_of
from hbtest import Hbd, free_port, hb_binary

KEY = "multi-server-key-0123456789"


def finished(hbd, cmd_id, rc):
    return any(m.get("msg") == f"command {cmd_id} finished with rc {rc}" for m in hbd.messages())


def two_servers():
    port = free_port("udp")
    cfg = {"interval": 1, "grace": 5, "hb_port": port, "hosts": {"multi01": {"key": KEY}}}
    return [Hbd(dict(cfg, hb_host="127.0.0.1")), Hbd(dict(cfg, hb_host="127.0.0.2"))]


def test_hbc_sends_to_every_server_and_runs_a_command_both_deliver_once():
    servers = two_servers()
    try:
        for s in servers:
            s.start()
        a, b = servers
        ran = os.path.join(a.dir, "ran.txt")
        cfg = {"name": "multi01", "key": KEY, "default_plugins": False,
               "plugins": {"memory_monitor": {"interval": 1}},
               "commands": {"count": ["/bin/sh", "-c", f"echo ran >> {ran}"]}}
        with Hbc(a, cfg, args=("127.0.0.2",), server="127.0.0.1"):
            for s in servers:
                s.wait_host_state("multi01", "UP", 10)
                s.wait_for(lambda s=s: "memory_monitor" in plugins_of(s, "multi01"), 10, "plugin data on each server")
            # Both servers queue their first command: the same cmd_id ("c-1") reaches hbc twice.
            ids = [s.post_json("/api/0/hosts/multi01/commands", {"command": "count"})["id"] for s in servers]
            assert ids[0] == ids[1]
            for s in servers:
                s.wait_for(lambda s=s: finished(s, ids[0], 0), 15, "the RES on each server")
        with open(ran) as f:
            assert f.read() == "ran\n", "the command ran once"
    finally:
        for s in servers:
            s.cleanup()


def test_hbc_mini_sends_to_every_server():
    servers = two_servers()
    try:
        for s in servers:
            s.start()
        a = servers[0]
        path = os.path.join(a.dir, "mini.json")
        with open(path, "w") as f:
            json.dump({"name": "multi01", "hb_port": a.hb_port, "interval": 1, "key": KEY}, f)
        log = open(os.path.join(a.dir, "mini.log"), "w")
        proc = subprocess.Popen([hb_binary("hbc_mini"), "-v", "-c", path, "127.0.0.1", "127.0.0.2"], stdout=log,
                                stderr=subprocess.STDOUT, env=dict(os.environ, HOME=a.dir))
        try:
            for s in servers:
                s.wait_host_state("multi01", "UP", 10)
                s.wait_for(lambda s=s: plugins_of(s, "multi01"), 15, "plugin data on each server")
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0
            log.close()
    finally:
        for s in servers:
            s.cleanup()
