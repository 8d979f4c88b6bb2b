"""Commands: CMD/UPD queued through the API reach only authenticated hosts, after
the ACK, on every heartbeat until a real RES closes them or they expire."""

import os

from hbtest import Client, Hbd, read_json_lines

KEY = "s3cret-key-of-app01-0123456789"


def cfg(**extra):
    c = {"interval": 1, "grace": 30, "hosts": {"app01": {"key": KEY}, "plain01": {}}}
    c.update(extra)
    return c


def commands(msgs):
    return [m for m in msgs if m.get("ID") in ("CMD", "UPD")]


def test_command_round_trip_with_a_real_result():
    with Hbd(cfg()) as hbd:
        c = Client("app01", hbd.hb_port, key=KEY)
        ack = c.heartbeat()
        assert ack["_authenticated"] and ack["_key_id"] == "app01"

        r = hbd.post_json("/api/0/hosts/app01/commands", {"command": "restart_nginx", "args": ["-t", "now"]})
        cmd_id = r["id"]

        c.inbox.clear()
        c.heartbeat()
        got = commands(c.inbox)
        assert len(got) == 1, c.inbox
        cmd = got[0]
        assert cmd["ID"] == "CMD" and cmd["cmd_id"] == cmd_id
        assert cmd["command"] == "restart_nginx" and cmd["args"] == ["-t", "now"]
        assert cmd["_authenticated"] is True  # mac checked with the host's key by Client.recv

        # Not answered yet: sent again on the next heartbeat.
        c.inbox.clear()
        c.heartbeat()
        assert [m["cmd_id"] for m in commands(c.inbox)] == [cmd_id]

        c.res(cmd_id, 0, "nginx restarted")
        hbd.wait_for(lambda: any(m["msg"] == f"command {cmd_id} finished with rc 0" for m in hbd.messages()), 5,
                     "the command result in the messages")
        c.inbox.clear()
        c.heartbeat()
        assert commands(c.inbox) == []  # closed by the RES

        # The result is journaled.
        path = os.path.join(hbd.dir, "journal", "messages.journal")

        def journaled():
            for rec in read_json_lines(path):
                if rec.get("event") == "command" and rec["data"].get("output") == "nginx restarted":
                    return rec
            return None

        rec = hbd.wait_for(journaled, 5, "the command result in the journal")
        assert rec["data"]["rc"] == 0 and rec["data"]["id"] == cmd_id


def test_upgrade_is_sent_as_upd_with_the_version():
    with Hbd(cfg()) as hbd:
        c = Client("app01", hbd.hb_port, key=KEY)
        c.heartbeat()
        uid = hbd.post_json("/api/0/hosts/app01/upgrade", {"version": "1.2.3"})["id"]
        c.inbox.clear()
        c.heartbeat()
        (upd,) = commands(c.inbox)
        assert upd["ID"] == "UPD" and upd["cmd_id"] == uid and upd["version"] == "1.2.3"
        c.res(uid, 0, "upgraded")
        hbd.wait_for(lambda: any(m["msg"] == f"upgrade {uid} finished with rc 0" for m in hbd.messages()), 5)


def test_hosts_without_a_key_never_get_commands():
    with Hbd(cfg()) as hbd:
        p = Client("plain01", hbd.hb_port)
        p.heartbeat()
        status, _, body = hbd.http("POST", "/api/0/hosts/plain01/commands", {"command": "reboot"})
        assert status == 409, body
        assert b"key" in body
        p.inbox.clear()
        p.heartbeat()
        # hbd sends no CMD/UPD behind an unauthenticated ACK; one would be here before the marker's ACK.
        marker = Client("marker01", hbd.hb_port)
        assert commands(p.inbox + p.replies_so_far(marker)) == []


def test_unauthenticated_heartbeats_claiming_a_keyed_host_get_nothing():
    with Hbd(cfg()) as hbd:
        real = Client("app01", hbd.hb_port, key=KEY)
        real.heartbeat()
        hbd.post_json("/api/0/hosts/app01/commands", {"command": "restart_nginx"})
        fake = Client("app01", hbd.hb_port)  # no key
        fake.htb()
        assert fake.replies_so_far(real) == []  # dropped: no ACK, no CMD
        wrong = Client("app01", hbd.hb_port, key="wrong-key-wrong-key-wrong")
        wrong.htb()
        assert wrong.replies_so_far(real) == []


def test_commands_expire_after_command_ttl():
    with Hbd(cfg(command_ttl=1)) as hbd:
        c = Client("app01", hbd.hb_port, key=KEY)
        c.heartbeat()
        cid = hbd.post_json("/api/0/hosts/app01/commands", {"command": "restart_nginx"})["id"]
        hbd.wait_for(lambda: any(m["msg"] == f"command {cid} expired" for m in hbd.messages()), 5, "expiry")
        c.inbox.clear()
        c.heartbeat()
        assert commands(c.inbox) == []
