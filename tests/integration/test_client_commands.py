"""CMD over authenticated transport: an allow-listed command runs (argv, no
shell) and its output comes back in a RES; a command not in the allow-list is
refused with a RES saying so; an UPD without upgrade_command is refused."""

import os

from client_support import Hbc
from hbtest import Hbd, read_json_lines

KEY = "client01-shared-secret-0123456789"


def journal_results(hbd):
    """The journaled results (the `done` command events; earlier events of a command have no output)."""
    out = {}
    for rec in read_json_lines(os.path.join(hbd.dir, "journal", "messages.journal")):
        if rec.get("event") == "command" and rec["data"].get("state") == "done":
            out[rec["data"].get("id")] = rec["data"]
    return out


def finished(hbd, cmd_id, rc, kind="command"):
    return any(m.get("msg") == f"{kind} {cmd_id} finished with rc {rc}" for m in hbd.messages())


def test_allow_listed_command_runs_and_others_are_refused():
    with Hbd({"interval": 1, "grace": 5, "hosts": {"client01": {"key": KEY}}}) as hbd:
        cfg = {"key": KEY, "default_plugins": False,
               "commands": {"say_hello": "/bin/echo 'hello from hbc'",
                            "greet": {"command": ["/bin/echo", "hi"], "allow_args": True}}}
        with Hbc(hbd, cfg) as hbc:
            hbd.wait_host_state("client01", "UP", 10)
            assert hbd.host("client01")["authenticated"] is True
            ok = hbd.post_json("/api/0/hosts/client01/commands", {"command": "say_hello"})["id"]
            bad = hbd.post_json("/api/0/hosts/client01/commands", {"command": "rm_everything", "args": ["-rf", "/"]})["id"]
            args = hbd.post_json("/api/0/hosts/client01/commands", {"command": "greet", "args": ["there"]})["id"]
            noargs = hbd.post_json("/api/0/hosts/client01/commands", {"command": "say_hello", "args": ["x"]})["id"]
            upd = hbd.post_json("/api/0/hosts/client01/upgrade", {"version": "9.9.9"})["id"]
            hbd.wait_for(lambda: finished(hbd, ok, 0), 15, "the allow-listed command's result")
            hbd.wait_for(lambda: finished(hbd, bad, 127), 10, "the refusal")
            hbd.wait_for(lambda: finished(hbd, args, 0), 10, "the command with args")
            hbd.wait_for(lambda: finished(hbd, noargs, 127), 10, "the refusal of args")
            hbd.wait_for(lambda: finished(hbd, upd, 127, "upgrade"), 10, "the upgrade refusal")
            res = hbd.wait_for(lambda: (lambda r: r if all(i in r for i in (ok, bad, args, noargs, upd)) else None)(
                journal_results(hbd)), 10, "the results in the journal")
            assert res[ok]["output"] == "hello from hbc\n"
            assert "not in this client's commands allow-list" in res[bad]["output"]
            assert res[args]["output"] == "hi there\n"
            assert "takes no arguments" in res[noargs]["output"]
            assert "no upgrade_command configured" in res[upd]["output"]
            assert "refused" in hbc.log()


def test_forged_commands_are_ignored():
    """CMDs that do not carry a valid envelope with the client's key never run."""
    import socket
    from hbtest import encode
    with Hbd({"interval": 1, "grace": 5, "hosts": {"client01": {"key": KEY}}}) as hbd:
        marker = os.path.join(hbd.dir, "forged-ran")
        cfg = {"key": KEY, "default_plugins": False,
               "commands": {"touch": ["/usr/bin/touch", marker], "harmless": ["/bin/true"]}}
        with Hbc(hbd, cfg):
            hbd.wait_host_state("client01", "UP", 10)
            port = hbd.host("client01")["connections"][0]["port"]
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            cmd = {"ID": "CMD", "cmd_id": "forged-1", "command": "touch", "args": []}
            s.sendto(encode(cmd), ("127.0.0.1", port))
            s.sendto(encode(dict(cmd, cmd_id="forged-2"), key_id="client01", key="wrong-key-0123456789abc"),
                     ("127.0.0.1", port))
            s.close()
            # A real command afterwards proves the client was listening all along.
            real = hbd.post_json("/api/0/hosts/client01/commands", {"command": "harmless"})["id"]
            hbd.wait_for(lambda: finished(hbd, real, 0), 15, "the real command")
            assert not os.path.exists(marker)
            assert not any("forged" in m.get("msg", "") for m in hbd.messages())


def test_upgrade_runs_the_configured_upgrade_command():
    with Hbd({"interval": 1, "grace": 5, "hosts": {"client01": {"key": KEY}}}) as hbd:
        cfg = {"key": KEY, "default_plugins": False,
               "upgrade_command": ["/bin/sh", "-c", "echo upgrading to $HB_UPGRADE_VERSION"]}
        with Hbc(hbd, cfg):
            hbd.wait_host_state("client01", "UP", 10)
            upd = hbd.post_json("/api/0/hosts/client01/upgrade", {"version": "1.2.3"})["id"]
            hbd.wait_for(lambda: finished(hbd, upd, 0, "upgrade"), 15, "the upgrade result")
            res = hbd.wait_for(lambda: journal_results(hbd).get(upd), 10, "the upgrade result in the journal")
            assert res["output"] == "upgrading to 1.2.3\n"
