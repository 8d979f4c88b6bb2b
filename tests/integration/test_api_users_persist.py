"""Users created, changed or deleted through /api/0/users survive a restart (also after kill -9) and
SIGHUP: the config file's users are the base, the API's changes an overlay kept in state_db; a later
edit of a user in the config file wins over an older API change of that user (docs/USERS.md)."""

import os
import stat
import time

from api_helpers import PASSWORD, login, pbkdf2_hash, request, users_config
from hbtest import Hbd


def admin_call(hbd, method, path, body=None):
    tok = login(hbd.hbd_port, "alice")[0]
    st, _, raw, parsed = request(hbd.hbd_port, method, path, body=body, token=tok)
    return st, parsed if parsed is not None else raw


def can_login(hbd, user, password):
    st = request(hbd.hbd_port, "POST", "/api/0/auth/login", {"username": user, "password": password})[0]
    return st == 200


def test_api_users_survive_restart_kill9_and_sighup():
    cfg = {"users": users_config(alice=True, bob=False, carl=False)}
    with Hbd(cfg) as hbd:
        st, got = admin_call(hbd, "POST", "/api/0/users",
                             {"username": "newbie", "password": "longenough1", "full_name": "New Bie",
                              "notification_channels": ["ops"]})
        assert st == 201, got
        assert admin_call(hbd, "PUT", "/api/0/users/bob", {"password": "bobs-new-pw", "full_name": "Bob B"})[0] == 200
        assert admin_call(hbd, "DELETE", "/api/0/users/carl")[0] == 200
        assert can_login(hbd, "newbie", "longenough1")

        hbd.restart()
        assert can_login(hbd, "newbie", "longenough1"), "a user created through the API survives a restart"
        tok = login(hbd.hbd_port, "newbie", "longenough1")[0]
        st, _, _, me = request(hbd.hbd_port, "GET", "/api/0/me", token=tok)
        assert st == 200 and me["full_name"] == "New Bie" and me["notification_channels"] == ["ops"]
        assert can_login(hbd, "bob", "bobs-new-pw") and not can_login(hbd, "bob", PASSWORD)
        assert not can_login(hbd, "carl", PASSWORD), "a config user deleted through the API stays deleted"
        names = [u["username"] for u in admin_call(hbd, "GET", "/api/0/users")[1]]
        assert names == ["alice", "bob", "newbie"]

        # kill -9 shortly after a change: the store's writer commits within ~200 ms (docs/USERS.md).
        assert admin_call(hbd, "POST", "/api/0/users", {"username": "late", "password": "latelate1"})[0] == 201
        accepted = time.time()
        hbd.wait_for(lambda: hbd.state_db("SELECT name FROM users WHERE name = 'late'"), 10, "the user row in state_db")
        took = time.time() - accepted
        assert took <= 1.0, f"the user row was committed {took:.2f} s after the change"
        hbd.kill9()
        hbd.start()
        assert can_login(hbd, "late", "latelate1")

        # SIGHUP re-reads the config file and keeps the overlay.
        hbd.sighup()
        hbd.wait_log("configuration reloaded")
        assert can_login(hbd, "newbie", "longenough1") and not can_login(hbd, "carl", PASSWORD)

        # The password hashes in state_db are not readable by others.
        mode = stat.S_IMODE(os.stat(hbd.config["state_db"]).st_mode)
        assert mode & 0o007 == 0, oct(mode)


def test_a_later_config_edit_wins_over_an_older_api_change():
    cfg = {"users": users_config(alice=True, bob=False)}
    with Hbd(cfg) as hbd:
        assert admin_call(hbd, "PUT", "/api/0/users/bob", {"password": "from-the-api"})[0] == 200
        hbd.restart()
        assert can_login(hbd, "bob", "from-the-api")

        # The operator now sets bob's password in the config file: that edit is newer and wins.
        new_cfg = dict(hbd.config)
        new_cfg["users"] = dict(new_cfg["users"])
        new_cfg["users"]["bob"] = dict(new_cfg["users"]["bob"], password=pbkdf2_hash("from-the-file"))
        hbd.write_config(new_cfg)
        hbd.sighup()
        hbd.wait_log("configuration reloaded")
        assert can_login(hbd, "bob", "from-the-file") and not can_login(hbd, "bob", "from-the-api")
        hbd.restart()
        assert can_login(hbd, "bob", "from-the-file"), "the stale API change was forgotten"


def test_first_user_created_in_open_mode_persists():
    with Hbd({}) as hbd:
        st, _, raw, _ = request(hbd.hbd_port, "POST", "/api/0/users",
                                {"username": "alice", "password": "alicealice", "admin": True})
        assert st == 201, raw
        hbd.restart()
        assert request(hbd.hbd_port, "GET", "/api/0/hosts")[0] == 401, "authentication stays on"
        assert can_login(hbd, "alice", "alicealice")
