"""Bad input: thousands of malformed datagrams are dropped and counted by reason,
never answered, never change state, and a valid heartbeat right behind them
is answered."""

import os
import random
import re
import zlib

from hbtest import Client, Hbd, encode, read_json_lines

KEY = "garbage-test-key-0123456789"


BOMB = zlib.compress(b"{" + b" " * 3_000_000 + b"}", 9)  # inflates past max_message_bytes


def garbage(rng, i):
    kind = i % 12
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300)))
    if kind == 1:
        return b'{"ID":"HTB","name":"x"' + b"," * rng.randint(0, 20)  # truncated JSON
    if kind == 2:
        return b"[" * 200 + b"]" * 200  # not an object, too deep
    if kind == 3:
        return b"\x78\x9c" + bytes(rng.getrandbits(8) for _ in range(50))  # corrupt zlib
    if kind == 4:
        return BOMB if i % 96 == 4 else b"\x78\x9c\x03\x00"  # a few bombs (each inflates 1 MiB), else truncated
    if kind == 5:
        return encode({"ID": "HTB", "name": "bad name!", "ver": 1, "seq": 1, "interval": 30})
    if kind == 6:
        return encode({"ID": "HTB", "name": "web01", "ver": "one", "seq": 1, "interval": 30})  # wrong type
    if kind == 7:
        return encode({"ID": "HTB", "name": "web01", "ver": 1})  # missing seq/interval
    if kind == 8:
        return encode({"ID": "NOPE", "name": "web01"})
    if kind == 9:
        return b"HBA1\x05keyed" + b"\x00" * 32 + b'{"ID":"HTB"}'  # bad mac
    if kind == 10:
        return b'{"ID":"MSG","name":"web01","msg":"\xff\xfe"}'  # bad UTF-8
    return encode({"ID": "MSG", "name": "web01", "msg": "x" * 2000})  # msg too long


def metric(text, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pat = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if want else "") + r" ([0-9.e+]+)"
    m = re.search(pat, text)
    return float(m.group(1)) if m else None


def test_a_flood_of_malformed_datagrams_changes_nothing_and_a_valid_heartbeat_still_gets_its_ack():
    rng = random.Random(7)
    with Hbd({"hosts": {"keyed": {"key": KEY}}}, verbose=False) as hbd:
        before = hbd.hosts()
        c = Client("web01", hbd.hb_port)
        n = 5000
        for i in range(n):
            c.send_raw(garbage(rng, i))
        ack = c.heartbeat(timeout=30)  # generous: the machine is shared; timing goals live in benchmarks
        assert ack["ID"] == "ACK" and ack["seq"] == 1
        # Nothing answers garbage: hbd answers in arrival order, so an answer would precede the ACK.
        assert c.received == [ack]

        hosts = hbd.hosts()
        assert {h["name"] for h in hosts} == {h["name"] for h in before} | {"web01"}
        h = [x for x in hosts if x["name"] == "web01"][0]
        assert h["state"] == "UP" and h["connections"][0]["seq"] == 1
        # No MSG got through (the only line is hbd's own "UP: web01 (first heartbeat)").
        assert [m["event"] for m in hbd.messages() if m["host"] == "web01"] == ["state"]

        status, _, body = hbd.http("GET", "/metrics")
        assert status == 200
        text = body.decode()
        rejected = metric(text, "heartbeat_datagrams_total", result="rejected")
        assert rejected == n, rejected
        for reason in ("unknown_first_byte", "bad_json", "inflate_error", "too_large", "bad_name", "wrong_type",
                       "missing_field", "unknown_type", "auth_failed", "bad_utf8", "too_long"):
            assert metric(text, "heartbeat_datagrams_rejected_total", reason=reason) > 0, reason
        assert hbd.running()

        # Nothing of the garbage reached the journal: only the one heartbeat. The journal is written in
        # order on its own thread: once the heartbeat's line is there, any garbage line would be too.
        path = os.path.join(hbd.dir, "journal", "messages.journal")

        def journaled():
            return [x["message"]["name"] for x in read_json_lines(path) if "message" in x]
        names = hbd.wait_for(journaled, 10, "the heartbeat's journal line", ok=lambda n: "web01" in n)
        assert names == ["web01"]
