"""The message journal of the real hbd: one JSON line per accepted datagram in
the shape of docs/STORAGE.md, state events, nothing for rejected datagrams, and size-based
rotation under load with every accepted message accounted for and no line split."""

import glob
import json
import os

from hbtest import Client, Hbd


def journal_files(hbd):
    d = hbd.config["journal_dir"]
    return sorted(glob.glob(os.path.join(d, "messages.journal*")))


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data == b"" or data.endswith(b"\n"), f"{path} ends inside a line"
    return [json.loads(line) for line in data.split(b"\n") if line]


def test_every_accepted_message_is_one_line_in_the_seed_shape():
    with Hbd({"interval": 30, "grace": 30}) as hbd:
        c = Client("web01", hbd.hb_port)
        port = c.sock.getsockname()[1]
        c.heartbeat(interval=30)
        c.plg("cpu_monitor", {"cpu_percent": 12.5})
        c.msg("maintenance starting")
        c.send_raw(b"{not json")  # rejected: never journaled
        c.send_raw(b'{"ID":"HTB"}')  # missing fields: never journaled
        c.heartbeat(interval=30)
        hbd.wait_host_state("web01", "UP")
        assert hbd.stop() == 0  # SIGTERM flushes the journal

        lines = read_lines(os.path.join(hbd.config["journal_dir"], "messages.journal"))
        msgs = [l for l in lines if "message" in l]
        assert [m["message"]["ID"] for m in msgs] == ["HTB", "PLG", "MSG", "HTB"]
        for m in msgs:
            assert list(m)[:5] == ["timestamp", "datetime", "source_ip", "source_port", "message"]
            assert m["source_ip"] == "127.0.0.1"
            assert m["source_port"] == port
            assert m["message"]["name"] == "web01"
            assert len(m["datetime"]) == 19 and m["datetime"][10] == "T"
        assert msgs[1]["message"]["data"] == {"cpu_percent": 12.5}
        assert msgs[2]["message"]["msg"] == "maintenance starting"
        # The host's state change is journaled as an event line.
        events = [l for l in lines if l.get("event") == "host"]
        assert any(e["host"] == "web01" and e["data"]["state"] == "UP" for e in events)


def test_rotation_under_load_keeps_every_line_whole():
    max_size = 8192
    cfg = {"interval": 30, "grace": 30, "journal_max_size": max_size, "journal_max_backups": 1000}
    with Hbd(cfg) as hbd:
        clients = [Client(f"load{i:02d}", hbd.hb_port) for i in range(4)]
        sent, acked = set(), set()
        for _ in range(50):  # bursts of 40 datagrams, then their ACKs
            want = {}
            for c in clients:
                for _ in range(10):
                    sent.add((c.name, c.htb(interval=30, padding="x" * 100)))
                want[c] = 10
            for c in clients:
                while want[c]:
                    m = c.recv(2.0)
                    if m is None:
                        break
                    if m.get("ID") == "ACK":
                        acked.add((c.name, m["seq"]))
                        want[c] -= 1
        assert len(acked) > 0.9 * len(sent)
        assert hbd.stop() == 0

        files = journal_files(hbd)
        assert len(files) > 10, files
        seen = set()
        for path in files:
            assert os.path.getsize(path) <= max_size, path
            for line in read_lines(path):
                m = line.get("message")
                if m and m.get("ID") == "HTB":
                    key = (m["name"], m["seq"])
                    assert key not in seen, f"{key} journaled twice"
                    seen.add(key)
        assert acked <= seen <= sent  # every acknowledged heartbeat, once


def test_only_journal_max_backups_are_kept():
    cfg = {"interval": 30, "grace": 30, "journal_max_size": 4096, "journal_max_backups": 2}
    with Hbd(cfg) as hbd:
        c = Client("web01", hbd.hb_port)
        for _ in range(150):
            c.htb(interval=30, padding="x" * 100)
        c.heartbeat(interval=30)  # its ACK: hbd has taken everything before it
        assert hbd.stop() == 0
        names = sorted(os.path.basename(p) for p in journal_files(hbd))
        assert names == ["messages.journal", "messages.journal.1", "messages.journal.2"]
        # The live file holds the newest heartbeat.
        live = read_lines(os.path.join(hbd.config["journal_dir"], "messages.journal"))
        htbs = [l["message"]["seq"] for l in live if l.get("message", {}).get("ID") == "HTB"]
        assert htbs and htbs[-1] == c.seq


def test_journal_disabled_writes_nothing():
    with Hbd({"journal_enabled": False}) as hbd:
        c = Client("web01", hbd.hb_port)
        c.heartbeat()
        assert hbd.stop() == 0
        assert journal_files(hbd) == []
