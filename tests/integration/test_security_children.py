"""Children inherit nothing: a program hbc runs as an `exec` plugin, one hbc_mini runs as a
Nagios check and the nsupdate hbd runs for a `dyn` host each list their own open
descriptors and process group; they see only 0-2 (not the parent's UDP sockets, HTTP
listeners, journal or database) and lead their own group; a plugin that outlives its
timeout is killed with its whole group, grandchildren included."""

import json
import os
import time

from client_support import Hbc, plugins_of
from hbtest import Client, Hbd, wait_until
from test_mini import Mini

KEY = "children-key-0123456789"


PROBE = """
import json, os, sys
def is_open(fd):
    try:
        os.fstat(fd)  # looks without opening anything of its own
        return True
    except OSError:
        return False
fds = [fd for fd in range(4096) if is_open(fd)]
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump({"pid": os.getpid(), "pgid": os.getpgid(0), "fds": fds}, f)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
if len(sys.argv) > 2:
    print(sys.argv[2])
"""


def probe(out_dir, tag, stdout=""):
    """argv of a child that writes its open descriptors, pid and process group to
    <out_dir>/<tag>.json and prints `stdout`."""
    script = os.path.join(out_dir, "probe.py")
    with open(script, "w") as f:
        f.write(PROBE)
    return ["/usr/bin/python3", script, os.path.join(out_dir, tag + ".json")] + ([stdout] if stdout else [])


def read_probe(out_dir, tag, timeout=20):
    path = os.path.join(out_dir, tag + ".json")
    wait_until(lambda: os.path.exists(path), timeout=timeout, what=f"{tag} probe output")
    with open(path) as f:
        return json.load(f)


def alive(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" not in f.read()  # a zombie is dead, only not yet reaped
    except FileNotFoundError:
        return False


def test_hbc_exec_plugin_sees_only_0_to_2_and_a_timed_out_group_dies(tmp_path):
    out = str(tmp_path)
    grand = os.path.join(out, "grandchild.pid")
    with Hbd({"interval": 1, "grace": 5}) as hbd:
        cfg = {"default_plugins": False,
               "plugins": {"fds": {"type": "exec", "command": probe(out, "hbc", '{"ok": true}'), "interval": 60},
                           "slow": {"type": "exec", "interval": 60, "timeout": 1,
                                    "command": ["/bin/sh", "-c", f"sleep 300 & echo $! > {grand}; sleep 300"]}}}
        with Hbc(hbd, cfg):
            got = read_probe(out, "hbc")
            assert got["fds"] == [0, 1, 2], got
            assert got["pgid"] == got["pid"], "the child leads its own process group"
            hbd.wait_for(lambda: plugins_of(hbd, "client01").get("fds", {}).get("data"), 15, "exec data")
            pid = int(wait_until(lambda: open(grand).read().strip() if os.path.exists(grand) else "", timeout=10,
                                 what="the grandchild's pid"))
            wait_until(lambda: not alive(pid), timeout=10, what="the grandchild killed with its group")


def test_hbc_mini_nagios_check_sees_only_0_to_2(tmp_path):
    out = str(tmp_path)
    command = " ".join(probe(out, "mini", "OK"))
    with Hbd({"interval": 1, "grace": 5}) as hbd:
        cfg = {"name": "mini01", "interval": 1,
               "plugins": {"nagios_runner": {"interval": 60, "commands": [{"name": "fds", "command": command}]}}}
        with Mini(hbd, cfg):
            got = read_probe(out, "mini")
            assert got["fds"] == [0, 1, 2], got
            assert got["pgid"] == got["pid"]


def test_hbd_nsupdate_sees_only_0_to_2(tmp_path):
    out = str(tmp_path)
    script = tmp_path / "nsupdate.sh"
    script.write_text("#!/bin/sh\ncat > /dev/null\nexec " + " ".join(probe(out, "hbd")) + "\n")
    script.chmod(0o755)
    cfg = {"dyndomains": ["dyn.example"], "nsupdate_bin": str(script), "hosts": {"web01": {"dyn": True, "key": KEY}}}
    with Hbd(cfg) as hbd:
        # hbd is busy with descriptors of its own: sockets, listeners, journal, database.
        assert len(os.listdir(f"/proc/{hbd.pid}/fd")) > 5
        Client("web01", hbd.hb_port, key=KEY).heartbeat()
        got = read_probe(out, "hbd")
        assert got["fds"] == [0, 1, 2], got
        assert got["pgid"] == got["pid"]
